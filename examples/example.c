// SPDX-License-Identifier: MIT
// Smallest program on the public API: are the most central faces of two photos the
// same person? Build: cc -Isrc examples/example.c build/libfacehatch.a -ljpeg -lpng -lexif -lm -pthread
#include <stdio.h>

#include "pipeline/facehatch.h"

static int central(struct fh_engine *e, const char *path, float *out) {
    struct img im;
    struct fh_face *faces;
    int n, rc = fh_image_load(path, &im);
    struct fh_config cfg = fh_config_default();
    if (!rc) rc = fh_detect(e, &im, &cfg, &faces, &n);
    int c = rc ? -1 : fh_central_face(faces, n, im.w, im.h);
    if (c >= 0 && !(rc = fh_embed(e, &im, &cfg, &faces[c], 1)))
        for (int k = 0; k < FH_EMB_DIM; k++) out[k] = faces[c].embedding[k];
    if (rc) fprintf(stderr, "%s\n", fh_errmsg());
    else if (c < 0) fprintf(stderr, "%s: no face\n", path);
    img_free(&im);
    return rc || c < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODELS_DIR IMAGE_A IMAGE_B\n", argv[0]);
        return 2;
    }
    struct fh_models *m;
    struct fh_engine *e;
    if (fh_models_load(argv[1], 0, &m) || fh_engine_new(m, 0, &e)) {
        fprintf(stderr, "%s\n", fh_errmsg());
        return 1;
    }
    float a[FH_EMB_DIM], b[FH_EMB_DIM];
    int rc = 1;
    if (!central(e, argv[2], a) && !central(e, argv[3], b)) {
        float d = fh_distance(a, b);
        printf("distance %.4f: %s\n", d, d < fh_verify_threshold(1) ? "same person" : "different people");
        rc = 0;
    }
    fh_engine_free(e);
    fh_models_free(m);
    return rc;
}
