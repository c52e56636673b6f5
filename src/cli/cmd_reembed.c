// SPDX-License-Identifier: MIT
// facehatch reembed: switch a library to another embedding model and keep every name
// (issue 12; lib_reembed). --embedder FILE / --precision int8 choose the new model, the
// same options every library command takes.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "library/library.h"

struct tick {
    double last;
};
static void reembed_progress(void *ctx, const struct lib_progress *p) {
    struct tick *t = ctx;
    if (p->done != p->total && p->seconds - t->last < 5) return;
    t->last = p->seconds;
    fprintf(stderr, "reembed: %d/%d faces staged, %d embedded now, %.1f s\n", p->done, p->total, p->faces, p->seconds);
}

static void model_json(const struct store_model *m) {
    printf("{\"name\":");
    json_str(stdout, m->name);
    printf(",\"version\":");
    json_str(stdout, m->version);
    printf(",\"sha256\":\"%s\",\"faces\":%lld}", m->sha256, (long long)m->faces);
}

int cmd_reembed(int argc, char **argv) {
    const char *usage = "reembed --db LIB.db [--embedder FILE] [--precision fp32|int8] [--threads N] [--no-flip] "
                        "[--status]";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc > 0) {
        fprintf(stderr, "facehatch: reembed takes no arguments\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if (!o.db) {
        fprintf(stderr, "facehatch: --db LIB.db is required\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if (!o.status && cli_models_need(&o)) return EXIT_FAIL;
    struct lib *L;
    if (lib_open_ex(o.db, o.models, o.embedder, STORE_OPEN_EXISTING, o.int8 ? FH_LOAD_INT8 : 0, &L)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        return EXIT_FAIL;
    }
    struct lib_reembed_status s0;
    if ((rc = lib_reembed_status(L, &s0))) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        lib_close(L);
        return EXIT_FAIL;
    }
    if (o.status) { // what the library runs on, and a re-embed in progress
        printf("{\"model\":");
        if (s0.in_use.id) model_json(&s0.in_use);
        else printf("null");
        printf(",\"reembed\":");
        if (s0.running) {
            printf("{\"to\":");
            model_json(&s0.target);
            printf(",\"staged\":%lld,\"pending\":%lld}", (long long)s0.staged, (long long)s0.pending);
        } else {
            printf("null");
        }
        printf("}\n");
        lib_close(L);
        return EXIT_OK;
    }
    struct lib_options lo = lib_options_default();
    lo.threads = o.threads, lo.flip = o.flip;
    struct tick t = {0};
    lo.progress = reembed_progress, lo.progress_ctx = &t;
    struct lib_reembed_stats st;
    if ((rc = lib_reembed(L, &lo, &st))) {
        fprintf(stderr, "facehatch: %s (the library still works on its model; run reembed again to resume)\n",
                fh_errmsg());
    } else {
        printf("{\"from\":");
        if (s0.in_use.id) model_json(&s0.in_use);
        else printf("null");
        printf(",\"faces\":%lld,\"resumed\":%lld,\"switched\":%lld,\"photos\":%d,\"embedded\":%d,\"missing\":%d,"
               "\"persons_rebuilt\":%s,\"persons_before\":%d,\"persons_after\":%d,\"seconds\":%.2f}\n",
               (long long)st.total, (long long)st.staged_before, (long long)st.switched, st.photos, st.embedded,
               st.missing, st.rebuilt ? "true" : "false", st.persons_before, st.persons_after, st.seconds);
    }
    lib_close(L);
    return rc ? EXIT_FAIL : EXIT_OK;
}
