// SPDX-License-Identifier: MIT
// facehatch verify A B: the most central face of each photo, compared.
#include "cli/cli.h"

static int central_embedding(struct fh_engine *e, const struct fh_config *cfg, const char *path,
                             float *out) {
    struct img im;
    struct fh_face *faces;
    int n;
    if (fh_image_load(path, &im) || fh_detect(e, &im, cfg, &faces, &n)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        img_free(&im);
        return -1;
    }
    int c = fh_central_face(faces, n, im.w, im.h);
    if (c < 0) {
        fprintf(stderr, "facehatch: %s: no face found\n", path);
        img_free(&im);
        return -1;
    }
    int rc = fh_embed(e, &im, cfg, &faces[c], 1);
    if (rc) fprintf(stderr, "facehatch: %s\n", fh_errmsg());
    else for (int k = 0; k < FH_EMB_DIM; k++) out[k] = faces[c].embedding[k];
    img_free(&im);
    return rc ? -1 : 0;
}

int cmd_verify(int argc, char **argv) {
    const char *usage = "verify [--no-flip] [--min-face N] IMAGE_A IMAGE_B";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc != 2) {
        fprintf(stderr, "facehatch: verify takes exactly two images\nusage: facehatch %s\n", usage);
        return EXIT_USAGE;
    }
    struct fh_models *m;
    struct fh_engine *e;
    if ((rc = cli_load(&o, o.threads, &m, &e))) return rc;
    struct fh_config cfg = cli_config(&o);
    float a[FH_EMB_DIM], b[FH_EMB_DIM];
    rc = EXIT_FAIL;
    if (!central_embedding(e, &cfg, argv[0], a) && !central_embedding(e, &cfg, argv[1], b)) {
        float d = fh_distance(a, b);
        float t = fh_verify_threshold(cfg.flip);
        printf("{\"distance\":%.6f,\"same_person\":%s,\"threshold\":%.3f}\n", d,
               d < t ? "true" : "false", t);
        rc = EXIT_OK;
    }
    fh_engine_free(e);
    fh_models_free(m);
    return rc;
}
