-- History retention under pg_cron: this database has pg_cron (cron.database_name
-- points here), so CREATE EXTENSION photofactory scheduled the job.
BEGIN;
SELECT plan(20);

SELECT has_extension('pg_cron', 'pg_cron is installed in this database');
SELECT is(count(*), 1::bigint, 'exactly one photofactory-history-retention job exists')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT is(command, 'SELECT photofactory.cleanup_history()', 'the job runs cleanup_history()')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT is(database, current_database()::text, 'the job runs in this database')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT is(username, (SELECT r.rolname::text FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner
                      WHERE e.extname = 'photofactory'),
          'the job belongs to the extension owner')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT ok(active, 'the job is active') FROM cron.job WHERE jobname = 'photofactory-history-retention';

-- schedule_retention upserts by name: same job id, new schedule, still one job.
SELECT jobid AS first_jobid FROM cron.job WHERE jobname = 'photofactory-history-retention' \gset
SELECT is(photofactory.schedule_retention('*/10 * * * *'), :first_jobid::bigint,
          'schedule_retention returns the existing job id');
SELECT is(schedule, '*/10 * * * *', 'the schedule changed')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT is(photofactory.schedule_retention(), :first_jobid::bigint, 'calling it again keeps the same job');
SELECT is(schedule, '17 3 * * *', 'the default schedule is 17 3 * * *')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT is(count(*), 1::bigint, 'still exactly one job')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT throws_ok($$SELECT photofactory.schedule_retention('every day')$$, NULL, NULL,
                 'an invalid schedule is refused by pg_cron');
SELECT throws_ok($$SELECT photofactory.schedule_retention(NULL)$$, '22004', 'schedule must not be NULL',
                 'a NULL schedule is refused');

-- An operator scheduling does not create a second, per-user job.
CREATE ROLE tap_pf_operator IN ROLE photofactory_operator;
SET LOCAL ROLE tap_pf_operator;
SELECT is(photofactory.schedule_retention('0 4 * * *'), :first_jobid::bigint,
          'an operator updates the same job (SECURITY DEFINER)');
RESET ROLE;
SELECT is(count(*), 1::bigint, 'still exactly one job after an operator scheduled it')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';

-- unschedule_retention removes it; a second call reports there was none.
SELECT is(photofactory.unschedule_retention(), true, 'unschedule_retention removes the job');
SELECT is(count(*), 0::bigint, 'the job is gone')
  FROM cron.job WHERE jobname = 'photofactory-history-retention';
SELECT is(photofactory.unschedule_retention(), false, 'unscheduling again returns false');
SELECT ok(photofactory.schedule_retention() > 0, 'schedule_retention recreates it');

-- What the job runs works as the job owner would run it.
SELECT lives_ok('SELECT photofactory.cleanup_history()', 'cleanup_history() runs with the configured retention');

SELECT * FROM finish();
ROLLBACK;
