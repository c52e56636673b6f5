// SPDX-License-Identifier: MIT
// facehatch detect / embed: one JSON object per image on stdout. A bad image is
// reported on stderr and the others still run; the exit status is then 1.
#include <string.h>

#include "cli/cli.h"

static int run(int argc, char **argv, int embed) {
    const char *usage = embed ? "embed [--no-flip] [--min-face N] [--threads N] [--models DIR] IMAGE..."
                              : "detect [--min-face N] [--threads N] [--models DIR] IMAGE...";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc < 1) {
        fprintf(stderr, "facehatch: no image given\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    struct fh_models *m;
    struct fh_engine *e;
    if ((rc = cli_load(&o, o.threads, &m, &e))) return rc;
    struct fh_config cfg = cli_config(&o);
    int failed = 0;
    for (int i = 0; i < argc; i++) {
        struct img im;
        struct fh_face *faces;
        int n;
        if (fh_image_load(argv[i], &im) ||
            (embed ? fh_process(e, &im, &cfg, &faces, &n) : fh_detect(e, &im, &cfg, &faces, &n))) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            failed++;
            img_free(&im);
            continue;
        }
        fputs("{\"image\":", stdout);
        json_str(stdout, argv[i]);
        printf(",\"width\":%d,\"height\":%d,\"faces\":[", im.w, im.h);
        for (int k = 0; k < n; k++) {
            if (k) putchar(',');
            json_face(stdout, &faces[k], embed);
        }
        puts("]}");
        fflush(stdout);
        img_free(&im);
    }
    fh_engine_free(e);
    fh_models_free(m);
    return failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_detect(int argc, char **argv) { return run(argc, argv, 0); }
int cmd_embed(int argc, char **argv) { return run(argc, argv, 1); }
