// SPDX-License-Identifier: MIT
// Shared CLI option parsing, model loading and JSON output.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse_unit(const char *s, float *out) { // a number in (0, 1)
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || !(v > 0 && v < 1)) return -1;
    *out = v;
    return 0;
}

// "P,R,O": three numbers strictly between 0 and 1, comma-separated, nothing else
static int parse_thresh(const char *s, float out[3]) {
    for (int k = 0; k < 3; k++) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || !(v > 0 && v < 1) || *end != (k < 2 ? ',' : '\0')) return -1;
        out[k] = (float)v;
        s = end + 1;
    }
    return 0;
}

int cli_parse(int *argc, char **argv, struct cli_opts *o, const char *usage) {
    *o = (struct cli_opts){.min_face = 20, .flip = 1,
                           .data = "../shared/data", .view = 2,
                           .detector = "mtcnn", .seed = 1, .user = "local"};
    struct fh_config def = fh_config_default();
    memcpy(o->thresh, def.thresh, sizeof o->thresh);
    int k = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < *argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: facehatch %s\n", usage);
            exit(EXIT_OK);
        } else if (!strcmp(a, "--no-flip")) o->flip = 0;
        else if (!strcmp(a, "--ref")) o->ref = 1;
        else if (!strcmp(a, "--packed-pyramid")) o->packed = 1;
        else if (!strcmp(a, "--quick")) o->quick = 1;
        else if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "--enqueue-only")) o->enqueue_only = 1;
        else if (!strcmp(a, "--exit-when-idle")) o->exit_when_idle = 1;
        else if (!strcmp(a, "--import-xmp")) o->import_xmp = 1;
        else if (!strcmp(a, "--sidecar") || !strcmp(a, "--in-file")) {
            int w = a[2] == 's' ? 1 : 2;
            o->xmp_where = o->xmp_where && o->xmp_where != w ? 3 : w;   // 3: both (export-xmp says so)
        }
        else if (!strcmp(a, "--status")) o->status = 1;
        else if (!strcmp(a, "--models") || !strcmp(a, "--data") || !strcmp(a, "--detector") ||
                 !strcmp(a, "--plot") || !strcmp(a, "--db") || !strcmp(a, "--user") ||
                 !strcmp(a, "--embedder") || !strcmp(a, "--events") || !strcmp(a, "--results")) {
            const char **dst = !strcmp(a, "--models") ? &o->models_arg : !strcmp(a, "--data") ? &o->data
                             : !strcmp(a, "--embedder") ? &o->embedder
                             : !strcmp(a, "--events") ? &o->events : !strcmp(a, "--results") ? &o->results
                             : !strcmp(a, "--plot") ? &o->plot : !strcmp(a, "--db") ? &o->db
                             : !strcmp(a, "--user") ? &o->user : &o->detector;
            if (!val) bad = 1;
            else *dst = val, i++;
            if (dst == &o->detector && val && fh_detector_parse(val) < 0) bad = 1;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "--min-face") || !strcmp(a, "--view") ||
                   !strcmp(a, "--seed")) {
            int *dst = !strcmp(a, "--threads") ? &o->threads : !strcmp(a, "--min-face") ? &o->min_face
                     : !strcmp(a, "--seed") ? &o->seed : &o->view;
            int lo = dst == &o->threads ? 0 : dst == &o->min_face ? 12 : dst == &o->seed ? 0 : 1;
            int hi = dst == &o->threads ? 256 : dst == &o->min_face ? 100000 : dst == &o->seed ? 1000000000 : 2;
            if (!val || parse_int(val, lo, hi, dst)) bad = 1;
            else i++;
            if (dst == &o->min_face) o->min_face_given = 1;
        } else if (!strcmp(a, "--precision")) {
            if (!val || (strcmp(val, "fp32") && strcmp(val, "int8"))) {
                fprintf(stderr, "facehatch: --precision takes fp32 or int8\nusage: facehatch %s\n", usage);
                return EXIT_USAGE;
            }
            o->int8 = !strcmp(val, "int8");
            i++;
        } else if (!strcmp(a, "--lease")) {
            if (!val || parse_int(val, 1, 86400, &o->lease)) bad = 1;
            else i++;
        } else if (!strcmp(a, "--synthetic")) {
            if (!val || parse_int(val, 0, 10000000, &o->synthetic)) bad = 1;
            else i++;
        } else if (!strcmp(a, "--answers")) {
            if (!val || parse_int(val, 1, 100000, &o->answers)) bad = 1;
            else i++;
        } else if (!strcmp(a, "--known") || !strcmp(a, "--draws") || !strcmp(a, "--batches")) {
            int *dst = a[2] == 'k' ? &o->known : a[2] == 'd' ? &o->draws : &o->batches;
            if (!val || parse_int(val, 1, a[2] == 'k' ? 10000 : 100, dst)) bad = 1;
            else i++;
        } else if (!strcmp(a, "--ulfd-width")) {
            if (!val || parse_int(val, 32, FH_MAX_IMAGE_SIDE, &o->ulfd_width)) bad = 1;
            else i++;
        } else if (!strcmp(a, "--ulfd-thresh") || !strcmp(a, "--faceboxes-thresh")) {
            if (!val || parse_unit(val, a[2] == 'u' ? &o->ulfd_thresh : &o->fb_thresh)) bad = 1;
            else i++;
        } else if (!strcmp(a, "--faceboxes-width") || !strcmp(a, "--fuse-small")) {
            int lo = a[2] == 'f' && a[3] == 'a' ? 32 : 0;
            if (!val || parse_int(val, lo, FH_MAX_IMAGE_SIDE, a[3] == 'a' ? &o->fb_width : &o->fuse_small)) bad = 1;
            else i++;
        } else if (!strcmp(a, "--thresh")) {
            if (!val || parse_thresh(val, o->thresh)) {
                fprintf(stderr, "facehatch: --thresh needs three MTCNN thresholds P,R,O, each between 0 "
                                "and 1 exclusive (default 0.6,0.7,0.7)\nusage: facehatch %s\n", usage);
                return EXIT_USAGE;
            }
            i++;
        } else if (!strcmp(a, "--")) {
            while (++i < *argc) argv[k++] = argv[i];
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "facehatch: unknown option '%s'\nusage: facehatch %s\n", a, usage);
            return EXIT_USAGE;
        } else {
            argv[k++] = argv[i];
        }
        if (bad) {
            fprintf(stderr, "facehatch: option '%s' needs a valid value\nusage: facehatch %s\n", a, usage);
            return EXIT_USAGE;
        }
    }
    *argc = k;
    if (!o->db) {
        const char *env = getenv("FACEHATCH_DB");
        if (env && *env) o->db = env;
    }
    o->models = cli_models_find(o->models_arg, NULL);
    o->models_found = o->models != NULL;
    if (!o->models) o->models = o->models_arg ? o->models_arg : "./models";
    return 0;
}

struct fh_config cli_config(const struct cli_opts *o) {
    struct fh_config c = fh_config_default();
    c.min_face = o->min_face;
    c.flip = o->flip;
    c.packed_pyramid = o->packed;
    c.detector = fh_detector_parse(o->detector) < 0 ? FH_DETECTOR_MTCNN : fh_detector_parse(o->detector);
    c.ulfd_width = o->ulfd_width, c.ulfd_thresh = o->ulfd_thresh;
    c.fb_width = o->fb_width, c.fb_thresh = o->fb_thresh, c.fuse_small = o->fuse_small;
    memcpy(c.thresh, o->thresh, sizeof c.thresh);
    return c;
}

int cli_load(const struct cli_opts *o, int threads, struct fh_models **m, struct fh_engine **e) {
    *e = NULL;
    int rc = cli_models_load(o, m);
    if (rc) return rc;
    if (fh_engine_new(*m, threads, e)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        fh_models_free(*m);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

void json_face(FILE *f, const struct fh_face *x, int with_embedding) {
    fprintf(f, "{\"box\":[%d,%d,%d,%d],\"score\":%.6f,\"landmarks\":[", x->box[0], x->box[1],
            x->box[2], x->box[3], x->score);
    for (int k = 0; k < 5; k++)
        fprintf(f, "%s[%.2f,%.2f]", k ? "," : "", x->landmarks[2 * k], x->landmarks[2 * k + 1]);
    fputc(']', f);
    if (with_embedding && x->has_embedding) {
        fputs(",\"embedding\":[", f);
        for (int k = 0; k < FH_EMB_DIM; k++) fprintf(f, "%s%.7g", k ? "," : "", x->embedding[k]);
        fputc(']', f);
    }
    fputc('}', f);
}

void cli_print_det_settings(FILE *f, const struct cli_opts *o) {
    if (!strcmp(o->detector, "haar")) return;
    fprintf(f, ", min face %d px, thresholds %g/%g/%g", o->min_face, o->thresh[0], o->thresh[1], o->thresh[2]);
}

void cli_json_det_settings(FILE *f, const struct cli_opts *o) {
    fprintf(f, ",\"min_face\":%d,\"thresh\":", o->min_face);
    if (!strcmp(o->detector, "haar")) fputs("null", f);
    else fprintf(f, "[%g,%g,%g]", o->thresh[0], o->thresh[1], o->thresh[2]);
}
