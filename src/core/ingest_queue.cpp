#include "core/ingest_queue.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <utility>

#include "core/companions.hpp"
#include "core/filename_sanitize.hpp"
#include "core/inbox_rules.hpp"

namespace pf {

uint32_t path_hash(const std::string& s) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : s) h = (h ^ c) * 16777619u;
    return h;
}

namespace {

bool same_state(int64_t mtime, int64_t ctime, int64_t size, const struct stat& st) {
    return mtime == st.st_mtime && ctime == st.st_ctime && size == st.st_size;
}

}  // namespace

void IngestQueue::replace_scan(std::vector<InboxEntry> scanned) {
    std::vector<InboxEntry> found;
    std::vector<std::string> found_keys;
    std::unordered_map<std::string, int64_t> transit;
    for (InboxEntry& e : scanned) {
        if (e.verdict == NameVerdict::Temporary) {
            // A companion still being synced: its group waits for it.
            std::string final_name = syncthing_final_name(e.name);
            if (final_name.empty()) continue;
            std::string rel = e.rel_path.substr(0, e.rel_path.size() - e.name.size()) + final_name;
            transit[inbox_companion_key(rel)] = static_cast<int64_t>(e.st.st_mtime);
            continue;
        }
        if (e.verdict != NameVerdict::Candidate) continue;
        found_keys.push_back(inbox_companion_key(e.rel_path));
        found.push_back(std::move(e));
    }
    // Members of a group next to each other, so a batch never splits one.
    std::vector<size_t> order(found.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return found_keys[a] < found_keys[b]; });
    std::vector<InboxEntry> entries;
    std::vector<std::string> keys;
    entries.reserve(found.size());
    keys.reserve(found.size());
    for (size_t i : order) {
        entries.push_back(std::move(found[i]));
        keys.push_back(std::move(found_keys[i]));
    }
    entries_.swap(entries);
    keys_.swap(keys);
    transit_.swap(transit);
    batch_.clear();
    done_ = true;  // a pass never outlives the list it walks
}

std::string IngestQueue::note_unlisted(const std::vector<std::string>& folders, int workers, int index) {
    const uint32_t n = static_cast<uint32_t>(workers > 0 ? workers : 1);
    std::string news;
    std::unordered_set<std::string> now;
    for (const std::string& f : folders) {
        std::string safe = sanitize_rel_path(f);
        if (unlisted_.count(safe) == 0 && static_cast<int>(path_hash(safe) % n) == index) news += safe + "\n";
        now.insert(std::move(safe));
    }
    unlisted_.swap(now);
    return news;
}

Backlog IngestQueue::backlog(const struct timespec& now, double settle_s) const {
    Backlog b;
    for (const InboxEntry& e : entries_) {
        if (e.type == EntryType::Regular && seconds_since_change(e.st, now) < settle_s) {
            b.settling++;
            continue;
        }
        auto it = failures_.find(e.rel_path);
        if (it != failures_.end() && it->second.given_up &&
            same_state(it->second.mtime, it->second.ctime, it->second.size, e.st)) {
            b.stuck++;
            continue;
        }
        b.ready++;
    }
    return b;
}

void IngestQueue::start_pass(const struct timespec& now, const PassSettings& settings) {
    now_ = now;
    settings_ = settings;
    settling_ = stuck_ = 0;
    settle_hint_.reset();
    batch_.clear();
    batch_bytes_ = 0;
    const size_t total = entries_.size();
    // Several librarians start from different points (a group boundary near
    // index/workers of the list), so they rarely contend for a claim.
    start_ = 0;
    if (settings.workers > 1 && total > 0) {
        start_ = total * static_cast<size_t>(settings.index % settings.workers) / static_cast<size_t>(settings.workers);
        while (start_ > 0 && start_ < total && keys_[start_] == keys_[start_ - 1]) start_++;
        if (start_ >= total) start_ = 0;
    }
    g_ = start_;
    wrapped_ = start_ == 0;
    in_group_ = false;
    done_ = false;
}

// Does the group [g, end) wait: a member still settling, or a member still
// being synced (an abandoned temporary holds nothing back)?
bool IngestQueue::held(size_t g, size_t end) {
    auto note = [this](double left) {
        if (!settle_hint_ || left < *settle_hint_) settle_hint_ = left;
    };
    bool hold = false;
    for (size_t i = g; i < end; i++) {
        const InboxEntry& e = entries_[i];
        if (e.type != EntryType::Regular) continue;
        double age = seconds_since_change(e.st, now_);
        if (age < settings_.settle_s) {
            hold = true;
            note(settings_.settle_s - age);
        }
    }
    auto it = transit_.find(keys_[g]);
    if (it != transit_.end() && now_.tv_sec - it->second < limits_.abandoned_transit_s) {
        hold = true;
        note(settings_.settle_s);
    }
    return hold;
}

bool IngestQueue::next_batch(const std::function<bool()>& stop, BatchReason* reason) {
    batch_.clear();
    batch_bytes_ = 0;
    if (done_) return false;
    const size_t total = entries_.size();
    while (true) {
        if (!in_group_) {
            if (g_ >= total) {
                if (wrapped_) break;
                wrapped_ = true;
                g_ = 0;
            }
            if (wrapped_ && start_ > 0 && g_ >= start_) break;
            if (stop()) break;
            end_ = g_ + 1;
            while (end_ < total && keys_[end_] == keys_[g_]) end_++;
            if (wrapped_ && start_ > 0 && end_ > start_) end_ = start_;  // never re-visit the first group
            const size_t gsize = end_ - g_;
            if (held(g_, end_)) {
                settling_ += static_cast<int>(gsize);
                g_ = end_;
                continue;
            }
            in_group_ = true;
            member_ = g_;
            // A group is never split across batches (unless absurdly large).
            if (!batch_.empty() && batch_.size() + std::min(gsize, limits_.batch_files) > limits_.batch_files) {
                *reason = BatchReason::Full;
                return true;
            }
        }
        while (member_ < end_) {
            add_member();
            if (batch_.size() == limits_.batch_files) {
                *reason = BatchReason::Full;
                return true;
            }
        }
        in_group_ = false;
        g_ = end_;
        if (!batch_.empty() && batch_bytes_ >= limits_.batch_bytes) {
            *reason = BatchReason::Bytes;
            return true;
        }
    }
    done_ = true;
    *reason = BatchReason::Last;
    return !batch_.empty();
}

// Takes the next member of the current group into the batch, unless it is
// stuck. A file that failed max_attempts times goes to Rejected/ with its
// last error instead of being retried (and logged) forever.
void IngestQueue::add_member() {
    const size_t i = member_++;
    const InboxEntry& e = entries_[i];
    BatchItem item{i, std::string(), false, 0};
    auto it = failures_.find(e.rel_path);
    if (it != failures_.end()) {
        const Failure& f = it->second;
        if (!same_state(f.mtime, f.ctime, f.size, e.st)) {
            failures_.erase(it);  // changed since: a fresh start
        } else if (f.given_up) {
            stuck_++;
            return;
        } else if (f.attempts >= limits_.max_attempts) {
            char why[700];  // as the librarian always cut it
            snprintf(why, sizeof why, "failed %d times, last error: %s", f.attempts, f.last_error.c_str());
            item.give_up = why;
        }
    }
    double age = seconds_since_change(e.st, now_);
    item.may_wait = age < settings_.sidecar_wait_s;
    item.wait_left = settings_.sidecar_wait_s - age;
    batch_bytes_ += e.st.st_size;
    batch_.push_back(std::move(item));
}

std::optional<double> IngestQueue::take_settle_hint() {
    std::optional<double> h = settle_hint_;
    settle_hint_.reset();
    return h;
}

std::vector<int32_t> IngestQueue::group_claims() const {
    std::vector<int32_t> claims;
    for (size_t i = 0; i < batch_.size(); i++)
        if (i == 0 || keys_[batch_[i].entry] != keys_[batch_[i - 1].entry])
            claims.push_back(static_cast<int32_t>(path_hash(keys_[batch_[i].entry])));
    return claims;
}

void IngestQueue::keep_claimed(const std::vector<bool>& granted) {
    std::vector<BatchItem> kept;
    size_t c = 0;
    for (size_t i = 0; i < batch_.size(); i++) {
        if (i > 0 && keys_[batch_[i].entry] != keys_[batch_[i - 1].entry]) c++;
        if (c < granted.size() && granted[c]) kept.push_back(std::move(batch_[i]));
    }
    batch_.swap(kept);
}

int IngestQueue::note_failure(size_t entry, const std::string& reason, bool gave_up) {
    const InboxEntry& e = entries_.at(entry);
    Failure& f = failures_[e.rel_path];
    f.attempts++;
    f.last_error = reason;
    f.given_up = gave_up;
    f.mtime = e.st.st_mtime;
    f.ctime = e.st.st_ctime;
    f.size = e.st.st_size;
    return f.attempts;
}

std::string IngestQueue::stuck_list() const {
    std::string out;
    for (const auto& kv : failures_)
        if (kv.second.given_up) out += sanitize_rel_path(kv.first) + "\n";
    return out;
}

}  // namespace pf
