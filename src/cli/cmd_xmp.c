// SPDX-License-Identifier: MIT
// XMP face regions on the command line: `export-xmp` (named faces into the photos' XMP) and
// `index --import-xmp` (cmd_library.c calls cli_xmp_import). The work is library/xmp.c's.
#include <string.h>

#include "cli/cli.h"
#include "library/library.h"

static void report(void *ctx, const char *path, const char *what) {
    const char *cmd = ctx;
    if (strstr(what, path)) fprintf(stderr, "facehatch: %s: %s\n", cmd, what);
    else fprintf(stderr, "facehatch: %s: %s: %s\n", cmd, path, what);
}

int cli_xmp_import(struct lib *L, int64_t owner, char **roots, int n_roots) {
    struct lib_xmp_options xo = {.report = report, .report_ctx = "import-xmp"};
    struct lib_xmp_stats st;
    int rc = lib_xmp_import(L, owner, (const char *const *)roots, n_roots, &xo, &st);
    if (rc) fprintf(stderr, "facehatch: import-xmp: %s\n", fh_errmsg());
    printf("{\"xmp_import\":{\"photos\":%d,\"regions\":%d,\"matched\":%d,\"assigned\":%d,\"kept\":%d,"
           "\"unmatched\":%d,\"skipped\":%d,\"failed\":%d,\"persons_new\":%d}}\n",
           st.photos, st.regions, st.matched, st.assigned, st.kept, st.unmatched, st.skipped, st.failed,
           st.persons_new);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_export_xmp(int argc, char **argv) {
    const char *usage = "export-xmp --db LIB.db|postgres://URL [--sidecar|--in-file] [--user NAME]";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc > 0 || o.xmp_where == 3) {
        fprintf(stderr, "facehatch: export-xmp %s\nusage: facehatch %s\n",
                argc > 0 ? "takes no arguments" : "writes either sidecars (--sidecar) or into the photos (--in-file)",
                usage);
        return EXIT_USAGE;
    }
    struct lib *L;
    int64_t owner;
    if ((rc = cli_lib_open(&o, usage, 0, &L, &owner))) return rc;
    struct lib_xmp_options xo = {.in_file = o.xmp_where == 2, .report = report, .report_ctx = "export-xmp"};
    struct lib_xmp_stats st;
    rc = lib_xmp_export(L, owner, &xo, &st);
    if (rc) fprintf(stderr, "facehatch: export-xmp: %s\n", fh_errmsg());
    printf("{\"photos\":%d,\"written\":%d,\"unchanged\":%d,\"regions\":%d,\"skipped\":%d,\"failed\":%d,\"where\":\"%s\"}\n",
           st.photos, st.written, st.unchanged, st.regions, st.skipped, st.failed, xo.in_file ? "in-file" : "sidecar");
    lib_close(L);
    return rc || st.failed ? EXIT_FAIL : EXIT_OK;
}
