// SPDX-License-Identifier: MIT
// facehatch detect / embed: one JSON object per image on stdout. A bad image is
// reported on stderr and the others still run; the exit status is then 1.
#include <string.h>

#include "cli/cli.h"
#include "cli/detectors.h"

static void print_head(const char *path, const struct img *im) {
    fputs("{\"image\":", stdout);
    json_str(stdout, path);
    printf(",\"width\":%d,\"height\":%d,\"faces\":[", im->w, im->h);
}

// detect: through the detector switch; every face has landmarks (another detector's
// from O-Net on its box, with O-Net's face probability as face_p)
static int detect_only(const struct cli_opts *o, int argc, char **argv) {
    struct cli_detector *d;
    int rc = cli_detector_open(o, o->threads, &d), failed = 0;
    if (rc) return rc;
    int mtcnn = !strcmp(cli_detector_name(d), "mtcnn");
    for (int i = 0; i < argc; i++) {
        struct img im;
        struct cli_box *b;
        int n;
        if (fh_image_load(argv[i], &im) || cli_detector_run(d, &im, &b, &n)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            failed++;
            img_free(&im);
            continue;
        }
        print_head(argv[i], &im);
        for (int k = 0; k < n; k++) {
            printf("%s{\"box\":[%.0f,%.0f,%.0f,%.0f],\"score\":%.6f", k ? "," : "", b[k].x1, b[k].y1,
                   b[k].x2, b[k].y2, b[k].score);
            if (!mtcnn) printf(",\"face_p\":%.6f", b[k].face_p);   // O-Net on the box
            fputs(",\"landmarks\":[", stdout);
            for (int j = 0; j < 5; j++)
                printf("%s[%.2f,%.2f]", j ? "," : "", b[k].landmarks[2 * j], b[k].landmarks[2 * j + 1]);
            fputs("]}", stdout);
        }
        puts("]}");
        fflush(stdout);
        img_free(&im);
    }
    cli_detector_close(d);
    return failed ? EXIT_FAIL : EXIT_OK;
}

static int run(int argc, char **argv, int embed) {
    const char *usage = embed ? "embed [--no-flip] [--min-face N] [--thresh P,R,O] [--threads N] [--models DIR] IMAGE..."
                              : "detect [--detector mtcnn|haar|ulfd|faceboxes|fused] [--min-face N] [--thresh P,R,O] "
                                "[--threads N] [--models DIR] IMAGE...";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc < 1) {
        fprintf(stderr, "facehatch: no image given\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    if (!embed) return detect_only(&o, argc, argv);
    struct fh_models *m;
    struct fh_engine *e;
    if ((rc = cli_load(&o, o.threads, &m, &e))) return rc;
    struct fh_config cfg = cli_config(&o);
    int failed = 0;
    for (int i = 0; i < argc; i++) {
        struct img im;
        struct fh_face *faces;
        int n;
        if (fh_image_load(argv[i], &im) || fh_process(e, &im, &cfg, &faces, &n)) {
            fprintf(stderr, "facehatch: %s\n", fh_errmsg());
            failed++;
            img_free(&im);
            continue;
        }
        print_head(argv[i], &im);
        for (int k = 0; k < n; k++) {
            if (k) putchar(',');
            json_face(stdout, &faces[k], 1);
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
