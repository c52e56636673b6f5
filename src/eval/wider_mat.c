// SPDX-License-Identifier: MIT
// The official WIDER FACE ground-truth .mat files (MATLAB v5), read with libmatio.
// Layout (as in eval_tools/ground_truth): event_list {61x1 cell of char}, file_list
// {61x1 cell of {n x 1 cell of char}}, face_bbx_list {61x1 cell of {n x 1 cell of
// (faces x 4) numeric}}, and in the level files gt_list {61x1 cell of {n x 1 cell of
// (k x 1) numeric}}. matio types stay in this file.
#include <matio.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "eval/eval_det.h"

static double num_at(const matvar_t *v, size_t i) {
    switch (v->data_type) {
    case MAT_T_DOUBLE: return ((const double *)v->data)[i];
    case MAT_T_SINGLE: return ((const float *)v->data)[i];
    case MAT_T_INT8: return ((const int8_t *)v->data)[i];
    case MAT_T_UINT8: return ((const uint8_t *)v->data)[i];
    case MAT_T_INT16: return ((const int16_t *)v->data)[i];
    case MAT_T_UINT16: return ((const uint16_t *)v->data)[i];
    case MAT_T_INT32: return ((const int32_t *)v->data)[i];
    case MAT_T_UINT32: return ((const uint32_t *)v->data)[i];
    case MAT_T_INT64: return (double)((const int64_t *)v->data)[i];
    case MAT_T_UINT64: return (double)((const uint64_t *)v->data)[i];
    default: return 0;
    }
}

static int is_numeric(const matvar_t *v) {
    if (v->isComplex || v->class_type == MAT_C_SPARSE || !v->data) return 0;
    switch (v->data_type) {
    case MAT_T_DOUBLE: case MAT_T_SINGLE: case MAT_T_INT8: case MAT_T_UINT8: case MAT_T_INT16:
    case MAT_T_UINT16: case MAT_T_INT32: case MAT_T_UINT32: case MAT_T_INT64: case MAT_T_UINT64:
        return 1;
    default: return 0;
    }
}

static size_t nel(const matvar_t *v) {
    size_t n = 1;
    for (int i = 0; i < v->rank; i++) n *= v->dims[i];
    return n;
}

// a char array as a C string (ASCII names: 8- or 16-bit code units)
static int get_str(const matvar_t *v, char *out, size_t cap) {
    if (!v || v->class_type != MAT_C_CHAR || !v->data) return -1;
    size_t n = nel(v), w = v->data_type == MAT_T_UINT16 || v->data_type == MAT_T_UTF16 ? 2 : 1;
    if (n >= cap) return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = w == 2 ? (char)((const uint16_t *)v->data)[i] : ((const char *)v->data)[i];
    out[n] = 0;
    return 0;
}

static matvar_t *cell(const matvar_t *v, size_t i) {
    return v && v->class_type == MAT_C_CELL && i < nel(v) ? Mat_VarGetCell((matvar_t *)v, (int)i) : NULL;
}

void eval_wider_gt_free(struct eval_wider_gt_image *im, int n) {
    if (!im) return;
    for (int i = 0; i < n; i++) fh_free(im[i].xywh), fh_free(im[i].keep);
    fh_free(im);
}

int eval_wider_gt_read(const char *path, int want_keep, const char *const *events, int n_events,
                       struct eval_wider_gt_image **out, int *n_out) {
    *out = NULL, *n_out = 0;
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) return fh_fail(FH_E_IO, "%s: cannot open as a MATLAB file", path);
    const char *names[4] = {"event_list", "file_list", "face_bbx_list", "gt_list"};
    matvar_t *var[4] = {0};
    struct eval_wider_gt_image *im = NULL;
    int n = 0, cap = 0, rc = FH_OK;
    for (int k = 0; k < 3 + !!want_keep; k++)
        if (!(var[k] = Mat_VarRead(mat, names[k])) || var[k]->class_type != MAT_C_CELL) {
            rc = fh_fail(FH_E_FORMAT, "%s: no cell array '%s'", path, names[k]);
            goto out;
        }
    size_t n_ev = nel(var[0]);
    for (int k = 1; k < 3 + !!want_keep; k++)
        if (nel(var[k]) != n_ev) {
            rc = fh_fail(FH_E_FORMAT, "%s: '%s' has %zu events, event_list %zu", path, names[k],
                         nel(var[k]), n_ev);
            goto out;
        }
    for (size_t e = 0; e < n_ev; e++) {
        char ev[64];
        if (get_str(cell(var[0], e), ev, sizeof ev)) {
            rc = fh_fail(FH_E_FORMAT, "%s: event_list{%zu} is not a name", path, e + 1);
            goto out;
        }
        int wanted = !events;
        for (int k = 0; k < n_events && !wanted; k++) wanted = !strcmp(events[k], ev);
        if (!wanted) continue;
        matvar_t *files = cell(var[1], e), *boxes = cell(var[2], e), *keeps = want_keep ? cell(var[3], e) : NULL;
        if (!files || !boxes || (want_keep && !keeps) || files->class_type != MAT_C_CELL ||
            nel(boxes) != nel(files) || (keeps && nel(keeps) != nel(files))) {
            rc = fh_fail(FH_E_FORMAT, "%s: event %s: file/box/gt lists do not match", path, ev);
            goto out;
        }
        for (size_t j = 0; j < nel(files); j++) {
            if (n == cap) {
                int nc = cap ? 2 * cap : 256;
                struct eval_wider_gt_image *t = fh_realloc(im, sizeof *im * (size_t)nc);
                if (!t) {
                    rc = fh_fail(FH_E_NOMEM, "%s: out of memory", path);
                    goto out;
                }
                im = t, cap = nc;
            }
            struct eval_wider_gt_image *g = &im[n];
            memset(g, 0, sizeof *g);
            n++;
            snprintf(g->event, sizeof g->event, "%s", ev);
            matvar_t *b = cell(boxes, j), *kp = keeps ? cell(keeps, j) : NULL;
            if (get_str(cell(files, j), g->file, sizeof g->file) || !b || !is_numeric(b) ||
                (b->rank != 2) || (nel(b) && b->dims[1] != 4) || (keeps && (!kp || (nel(kp) && !is_numeric(kp))))) {
                rc = fh_fail(FH_E_FORMAT, "%s: event %s image %zu: bad name, boxes or gt_list", path, ev, j + 1);
                goto out;
            }
            g->n_face = (int)b->dims[0];
            g->xywh = fh_malloc(sizeof(int) * 4 * (size_t)(g->n_face ? g->n_face : 1));
            if (kp) g->n_keep = (int)nel(kp), g->keep = fh_malloc(sizeof(int) * (size_t)(g->n_keep ? g->n_keep : 1));
            if (!g->xywh || (kp && !g->keep)) {
                rc = fh_fail(FH_E_NOMEM, "%s: out of memory", path);
                goto out;
            }
            // column-major: element (r, c) at r + c*rows
            for (int r = 0; r < g->n_face; r++)
                for (int c = 0; c < 4; c++) g->xywh[4 * r + c] = (int)num_at(b, (size_t)r + (size_t)c * b->dims[0]);
            for (int k = 0; k < g->n_keep; k++) g->keep[k] = (int)num_at(kp, (size_t)k);
        }
    }
out:
    for (int k = 0; k < 4; k++)
        if (var[k]) Mat_VarFree(var[k]);
    Mat_Close(mat);
    if (rc) {
        eval_wider_gt_free(im, n);
        return rc;
    }
    *out = im, *n_out = n;
    return FH_OK;
}
