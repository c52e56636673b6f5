// SPDX-License-Identifier: MIT
// Where the models are: the one search every command that loads them goes through
// (order and rules in cli.h). The CLI is the only module that reads the environment.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#ifndef FH_PREFIX
#define FH_PREFIX "/usr/local" // the Makefile passes -DFH_PREFIX='"$(PREFIX)"'
#endif

#define PLACES_MAX 16 // places remembered to skip repeats (more are still tried)

static char found[4096];
static char tried[PLACES_MAX][4096];
static int n_tried;

const char *cli_models_prefix(void) { return FH_PREFIX; }

// The first model file dir lacks (not readable), or NULL when it holds them all.
static const char *missing_file(const char *dir) {
    char path[4096];
    for (int i = 0; i < FH_MODEL_FILES; i++) {
        const char *name = fh_model_file(i, NULL);
        int n = snprintf(path, sizeof path, "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= sizeof path || access(path, R_OK)) return name;
    }
    return NULL;
}

// Tries the folder base+tail (skipped when base is NULL or empty, or, for the XDG
// variables, not absolute as the XDG spec asks). 1 when it holds the models (then in found).
static int try_dir(const char *base, const char *tail, const char *why, int absolute_only, FILE *report) {
    char dir[4096];
    if (!base || !*base || (absolute_only && base[0] != '/')) return 0;
    int n = snprintf(dir, sizeof dir, "%s%s", base, tail);
    if (n < 0 || (size_t)n >= sizeof dir) {
        if (report) fprintf(report, "  %.60s...  (%s: path too long)\n", base, why);
        return 0;
    }
    for (int i = 0; i < n_tried && i < PLACES_MAX; i++)
        if (!strcmp(tried[i], dir)) return 0;
    if (n_tried < PLACES_MAX) memcpy(tried[n_tried], dir, (size_t)n + 1);
    n_tried++;
    const char *miss = missing_file(dir);
    if (!miss) {
        memcpy(found, dir, (size_t)n + 1);
        return 1;
    }
    if (report && access(dir, F_OK)) fprintf(report, "  %s  (%s: no such folder)\n", dir, why);
    else if (report) fprintf(report, "  %s  (%s: no %s)\n", dir, why, miss);
    return 0;
}

const char *cli_models_find(const char *explicit_dir, FILE *report) {
    n_tried = 0;
    if (explicit_dir) return try_dir(explicit_dir, "", "--models", 0, report) ? found : NULL;
    const char *xdg_home = getenv("XDG_DATA_HOME"), *xdg_dirs = getenv("XDG_DATA_DIRS");
    if (try_dir(getenv("FACEHATCH_MODELS"), "", "$FACEHATCH_MODELS", 0, report)) return found;
    if (xdg_home && xdg_home[0] == '/') {
        if (try_dir(xdg_home, "/facehatch/models", "$XDG_DATA_HOME", 1, report)) return found;
    } else if (try_dir(getenv("HOME"), "/.local/share/facehatch/models", "$XDG_DATA_HOME default", 1, report)) {
        return found;
    }
    if (!xdg_dirs || !*xdg_dirs) xdg_dirs = "/usr/local/share:/usr/share";
    for (const char *p = xdg_dirs; *p;) {
        size_t len = strcspn(p, ":");
        char one[4096];
        if (len && len < sizeof one) {
            memcpy(one, p, len), one[len] = 0;
            if (try_dir(one, "/facehatch/models", "$XDG_DATA_DIRS", 1, report)) return found;
        }
        p += len + (p[len] == ':');
    }
    if (try_dir(FH_PREFIX, "/share/facehatch/models", "install prefix", 0, report)) return found;
    if (try_dir("./models", "", "developer checkout", 0, report)) return found;
    return NULL;
}

int cli_models_need(const struct cli_opts *o) {
    if (o->models_found) return EXIT_OK;
    const char *dir = o->models_arg, *fetch = "fetch the models with `make models` (in a source checkout) or "
                                              "`tools/fetch_models.sh DIR`";
    if (dir) { // explicit: one line naming the folder and what it lacks
        if (access(dir, F_OK)) fprintf(stderr, "facehatch: --models %s: no such folder (%s)\n", dir, fetch);
        else fprintf(stderr, "facehatch: --models %s: no %s there (%s)\n", dir, missing_file(dir), fetch);
        return EXIT_FAIL;
    }
    fprintf(stderr, "facehatch: the models were not found; looked in, in this order:\n");
    cli_models_find(NULL, stderr);
    fprintf(stderr, "%s,\nthen give --models DIR or set FACEHATCH_MODELS=DIR (or install them: `make install`)\n", fetch);
    return EXIT_FAIL;
}

int cli_models_load(const struct cli_opts *o, struct fh_models **m) {
    *m = NULL;
    int rc = cli_models_need(o);
    if (rc) return rc;
    if (fh_models_load_embedder(o->models, (o->ref ? FH_LOAD_REF : 0) | (o->int8 ? FH_LOAD_INT8 : 0), o->embedder, m)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
