# PGXS build of photofactory.so: the pure C++ core (src/core) and the PostgreSQL
# glue (src/pg) are linked into one shared library.
EXTENSION  = photofactory
MODULE_big = photofactory
# The full script of the current version is built from sql/install/*.sql (one
# part per concern, concatenated in name order); the released full scripts and
# the update scripts are kept as written. docs/schema.md, "Changing the schema".
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA       = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS   = $(sort $(wildcard src/pg/*.cpp))
OBJS      = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)
# Not HEADERS: PGXS would install those into the server include folder.
PF_HEADERS = $(wildcard src/core/*.hpp src/pg/*.hpp)

# pg_regress suites for the SQL surface (sql/<name>.sql against expected/<name>.out).
REGRESS      = $(patsubst sql/%.sql,%,$(filter-out sql/photofactory--%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=photofactory

# PostgreSQL headers are C: under C++17 they need -Wno-register; Exiv2 0.27 still
# uses std::auto_ptr, hence -Wno-deprecated-declarations. Status texts are cut
# to fixed buffers on purpose (heartbeats, pg_stat_activity): -Wno-format-truncation.
IMAGING_PKGS = vips libjpeg libavformat libavcodec libswscale libavutil
# libcurl + libxml2: the Syncthing check; libmicrohttpd: the dashboard.
SERVICE_PKGS = libcurl libxml-2.0 libmicrohttpd
PG_CXXFLAGS = -std=c++17 -Isrc $(shell pkg-config --cflags exiv2 $(IMAGING_PKGS) $(SERVICE_PKGS)) \
              -Wall -Wextra -Wno-register -Wno-deprecated-declarations \
              -Wno-missing-field-initializers -Wno-unused-parameter \
              -Wno-format-truncation
ifeq ($(PF_WERROR),1)
PG_CXXFLAGS += -Werror
endif
SHLIB_LINK = -lcrypto $(shell pkg-config --libs exiv2 $(IMAGING_PKGS) $(SERVICE_PKGS)) -lstdc++

# PGXS would also compile every .cpp to LLVM bitcode with flags that ignore
# PG_CXXFLAGS (so C++17 fails); JIT inlining of this library buys nothing.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(PF_HEADERS)

PF_SQL_PARTS = $(sort $(wildcard sql/install/*.sql))
$(DATA_built): $(PF_SQL_PARTS) $(EXTENSION).control
	cat $(PF_SQL_PARTS) >$@.tmp && mv $@.tmp $@

# Core objects are compiled as core: core_guard.hpp then rejects any PostgreSQL header.
$(CORE_SRCS:.cpp=.o): PG_CXXFLAGS += -DPF_BUILDING_CORE

# The core's reading of any folder of real photos and videos against exiftool's:
# agreement per format, every disagreement with both readings and the deciding
# rule (test/formats/compare.sh --dir; needs the CMake build's pf-inspect).
#   make compare-real DIR=/path/to/DCIM
.PHONY: compare-real
compare-real:
	@test -n "$(DIR)" || { echo "usage: make compare-real DIR=/folder/of/real/files"; exit 2; }
	@test -x build/pf-inspect || { cmake -S . -B build >/dev/null && cmake --build build -j2 --target pf-inspect; }
	bash test/formats/compare.sh --dir "$(DIR)"
