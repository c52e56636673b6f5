// SPDX-License-Identifier: MIT
// The detector interface (detect/detector.h) on the demo photos: names; MTCNN through it
// equals det_mtcnn_detect; O-Net on arbitrary boxes (det_mtcnn_landmarks) puts the 5
// points where MTCNN's own cascade puts them; Haar boxes are haar_detect's boxes, with
// its scores as raw_score and O-Net landmarks that agree with MTCNN's on the same face;
// ULFD is det_ulfd_detect's boxes; fused gives one calibrated score, no overlaps, and
// keeps MTCNN's confident faces; the public API records the detector; bad boxes and
// kinds are refused.
#include <math.h>
#include <string.h>

#include "detect/detector.h"
#include "detect/faceboxes.h"
#include "detect/ulfd.h"
#include "haar/haar.h"
#include "harness.h"
#include "pipeline/facehatch.h"

static double iou(const int *a, const int *b) {
    int x1 = a[0] > b[0] ? a[0] : b[0], y1 = a[1] > b[1] ? a[1] : b[1];
    int x2 = a[2] < b[2] ? a[2] : b[2], y2 = a[3] < b[3] ? a[3] : b[3];
    if (x2 < x1 || y2 < y1) return 0;
    double in = (double)(x2 - x1 + 1) * (y2 - y1 + 1);
    double aa = (double)(a[2] - a[0] + 1) * (a[3] - a[1] + 1), ab = (double)(b[2] - b[0] + 1) * (b[3] - b[1] + 1);
    return in / (aa + ab - in);
}

// mean landmark distance over the inter-ocular distance of a (the reference)
static double lm_err(const float *a, const float *b) {
    double iod = hypot(a[2] - a[0], a[3] - a[1]), s = 0;
    for (int j = 0; j < 5; j++) s += hypot(a[2 * j] - b[2 * j], a[2 * j + 1] - b[2 * j + 1]);
    return s / 5 / iod;
}

static int load(const char *name, struct nn_net **out) {
    char path[256];
    snprintf(path, sizeof path, FH_MODELS "/%s", name);
    struct nn_options o = {0};
    if (nn_net_load_tflite(path, &o, out)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    return 0;
}

int main(void) {
    TEST_COND("names: mtcnn and haar, both ways",
              !strcmp(det_kind_name(DET_MTCNN), "mtcnn") && !strcmp(det_kind_name(DET_HAAR), "haar") &&
                  det_kind_parse("mtcnn") == DET_MTCNN && det_kind_parse("haar") == DET_HAAR);
    TEST_COND("unknown names and kinds", det_kind_parse("yolo") < 0 && det_kind_parse(NULL) < 0 &&
                                             !det_kind_name(DET_KINDS) && !det_kind_name(-1) &&
                                             !fh_detector_name(FH_DETECTORS) && fh_detector_parse("") < 0);
    struct nn_net *p, *r, *o;
    if (load("pnet.tflite", &p) || load("rnet.tflite", &r) || load("onet.tflite", &o)) return 1;
    struct nn_net *u;
    if (det_ulfd_load(FH_MODELS "/ulfd.onnx", &u)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    struct detector_nets nets = {p, r, o, NULL, NULL};
    struct detector *dm, *dh, *dx, *du, *dfu, *dfb;
    struct nn_net *fbnet;
    if (det_faceboxes_load(FH_MODELS "/faceboxes/model.json", NULL, &fbnet)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    TEST_COND("ulfd without its net: FH_E_IO", detector_new(DET_ULFD, &nets, NULL, &dx) == FH_E_IO && !dx);
    nets.ulfd = u;
    struct detector_nets nets_fb = nets;
    nets_fb.faceboxes = fbnet;
    if (detector_new(DET_ULFD, &nets, NULL, &du) || detector_new(DET_FUSED, &nets, NULL, &dfu) ||
        detector_new(DET_FUSED, &nets_fb, NULL, &dfb)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    struct det_ulfd *raw_u;
    if (det_ulfd_new(u, NULL, &raw_u)) return 1;
    struct det_mtcnn *raw;
    struct haar_cascade *hc;
    TEST_COND("unknown kind refused", detector_new(DET_KINDS, &nets, NULL, &dx) == FH_E_ARG && !dx);
    if (detector_new(DET_MTCNN, &nets, NULL, &dm) || detector_new(DET_HAAR, &nets, NULL, &dh) ||
        det_mtcnn_new(p, r, o, NULL, &raw) || haar_load(HAAR_DEFAULT_CASCADE, &hc)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    struct detector_options opt = detector_options_default();
    opt.mtcnn.min_face = 40;
    int same = 1, n_m = 0, n_h = 0, h_same = 1, n_pair = 0, lm_ok = 0, n_self = 0, self_ok = 0;
    int scored = 1, kinds = 1, u_same = 1, n_u = 0, f_ok = 1, n_extra = 0, n_fb = 0;
    double worst_self = 0, worst_pair = 0, min_p_pair = 1, sum_pair = 0;
    for (int s = 1; s <= 6; s++) {
        char path[256];
        snprintf(path, sizeof path, FH_MODELS "/samples/sample%d.jpg", s);
        struct img im;
        if (fh_image_load(path, &im)) {
            printf("%s\n", fh_errmsg());
            return 1;
        }
        struct det_face *fm, *fr, *fh;
        int km, kr, kh, rc;
        struct det_face mf[FH_MAX_FACES];
        rc = detector_run(dm, &im, &opt, &fm, &km);
        if (!rc) memcpy(mf, fm, (size_t)km * sizeof *fm);
        if (!rc) rc = det_mtcnn_detect(raw, &im, &opt.mtcnn, &fr, &kr, NULL);
        if (rc) {
            printf("%s\n", fh_errmsg());
            return 1;
        }
        same &= km == kr && !memcmp(mf, fr, (size_t)km * sizeof *fr);
        n_m += km;
        for (int i = 0; i < km; i++) {
            scored &= mf[i].raw_score == mf[i].score && mf[i].lm_score == mf[i].score;
            kinds &= mf[i].kind == DET_MTCNN;
        }
        // O-Net on MTCNN's own final boxes: the points land where the cascade put them
        float boxes[4 * FH_MAX_FACES];
        struct det_face lf[FH_MAX_FACES];
        for (int i = 0; i < km; i++)
            for (int j = 0; j < 4; j++) boxes[4 * i + j] = (float)mf[i].box[j];
        if (det_mtcnn_landmarks(raw, &im, boxes, km, DET_LM_SCALE, lf)) printf("%s\n", fh_errmsg());
        for (int i = 0; i < km; i++, n_self++) {
            double e = lm_err(mf[i].landmarks, lf[i].landmarks);
            if (e > worst_self) worst_self = e;
            self_ok += e < 0.10 && lf[i].lm_score > 0.9f && !memcmp(lf[i].box, mf[i].box, sizeof lf[i].box);
        }
        // Haar through the interface: haar_detect's boxes (min size 40), its scores as raw
        struct haar_params hp = haar_params_default();
        hp.min_size = 40;
        struct haar_det *hd;
        int nd;
        if (haar_detect(hc, &im, &hp, &hd, &nd) || detector_run(dh, &im, &opt, &fh, &kh)) {
            printf("%s\n", fh_errmsg());
            return 1;
        }
        h_same &= nd == kh;
        for (int i = 0; i < kh && i < nd; i++) {
            h_same &= fh[i].box[0] == hd[i].x && fh[i].box[1] == hd[i].y && fh[i].box[2] == hd[i].x + hd[i].w - 1 &&
                      fh[i].box[3] == hd[i].y + hd[i].h - 1 && fh[i].raw_score == (float)hd[i].score &&
                      fh[i].kind == DET_HAAR && fh[i].score == fh[i].lm_score;
            for (int k = 0; k < km; k++) // the same face found by both
                if (iou(fh[i].box, mf[k].box) > 0.4) {
                    double e = lm_err(mf[k].landmarks, fh[i].landmarks);
                    if (e > worst_pair) worst_pair = e;
                    if (fh[i].score < min_p_pair) min_p_pair = fh[i].score;
                    n_pair++, lm_ok += e < 0.25, sum_pair += e;
                }
        }
        n_h += kh;
        fh_free(hd);
        // ULFD: det_ulfd_detect's boxes (640 wide) of side >= min face, kind ulfd, O-Net landmarks
        struct det_box_f *ub;
        int nu, ku, kf;
        struct det_ulfd_options uo = {.width = 640};
        struct det_face *fu, *ff;
        if (det_ulfd_detect(raw_u, &im, &uo, &ub, &nu) || detector_run(du, &im, &opt, &fu, &ku)) {
            printf("%s\n", fh_errmsg());
            return 1;
        }
        int j = 0;
        for (int i = 0; i < nu; i++) {
            float w = ub[i].x2 - ub[i].x1, h = ub[i].y2 - ub[i].y1;
            if ((w > h ? w : h) < 40) continue;
            u_same &= j < ku && fu[j].box[0] == (int)lrintf(ub[i].x1) && fu[j].box[3] == (int)lrintf(ub[i].y2) &&
                      fu[j].raw_score == ub[i].score && fu[j].kind == DET_ULFD && fu[j].landmarks[0] != 0;
            j++;
        }
        u_same &= j == ku;
        n_u += ku;
        fh_free(ub);
        // fused (score-calibrated): one calibrated score in (0, 1), best first; no two faces
        // overlapping beyond the NMS IoU (plus slack for box voting); every confident MTCNN
        // face kept (IoU >= 0.5 with a fused face); a face fused from MTCNN keeps MTCNN's
        // landmarks; kinds are the backends. Twice: MTCNN + ULFD; and all backends (FaceBoxes at 1024 and 2048, ULFD again at
        // 1280 for faces under 40 px), whose internal second-run kinds must not leak out
        struct detector_options opt_fb = opt;
        opt_fb.fb_width = 2048, opt_fb.fuse_small = 40;
        for (int pass = 0; pass < 2; pass++) {
            if (detector_run(pass ? dfb : dfu, &im, pass ? &opt_fb : &opt, &ff, &kf)) {
                printf("%s\n", fh_errmsg());
                return 1;
            }
            for (int i = 0; i < kf; i++) {
                f_ok &= ff[i].raw_score > 0 && ff[i].raw_score < 1 && (!i || ff[i].raw_score <= ff[i - 1].raw_score);
                f_ok &= ff[i].kind == DET_MTCNN || ff[i].kind == DET_ULFD || (pass && ff[i].kind == DET_FACEBOXES);
                n_fb += ff[i].kind == DET_FACEBOXES;
                for (int q = 0; q < i; q++) f_ok &= iou(ff[i].box, ff[q].box) <= 0.5;
                if (ff[i].kind == DET_MTCNN) {
                    int lm_same = 0;
                    for (int k = 0; k < km; k++) lm_same |= !memcmp(ff[i].landmarks, mf[k].landmarks, sizeof mf[k].landmarks);
                    f_ok &= lm_same;
                }
            }
            for (int k = 0; k < km; k++) {
                int covered = mf[k].score < 0.9f;
                for (int i = 0; i < kf && !covered; i++) covered = iou(ff[i].box, mf[k].box) >= 0.5;
                f_ok &= covered;
            }
        }
        n_extra += kf;
        img_free(&im);
    }
    printf("MTCNN %d faces, Haar %d; O-Net on MTCNN's boxes: worst landmark error %.3f IOD; "
           "%d faces found by both: mean %.3f, worst %.3f IOD, lowest O-Net p on a Haar box %.3f\n",
           n_m, n_h, worst_self, n_pair, n_pair ? sum_pair / n_pair : 0, worst_pair, min_p_pair);
    TEST_COND("MTCNN through the interface == det_mtcnn_detect (every field)", same && n_m >= 10);
    TEST_COND("MTCNN faces: raw_score = lm_score = score, kind mtcnn", scored && kinds);
    TEST_COND("O-Net on MTCNN's final boxes: landmarks within 0.10 IOD, p > 0.9, box kept",
              n_self == n_m && self_ok == n_self);
    TEST_COND("Haar through the interface: haar_detect's boxes and scores, kind haar", h_same && n_h > 0);
    // (on 80 LFW + demo faces, scale 1.0 gave mean 0.049 IOD; 0.9 / 1.2 / 1.4: 0.056 / 0.059 / 0.109)
    TEST_COND("faces both find: O-Net landmarks on the Haar box, mean within 0.08 IOD of MTCNN's, most within 0.25",
              n_pair >= 5 && sum_pair / n_pair < 0.08 && lm_ok >= n_pair - 1);

    printf("ULFD %d faces; fused (all backends) %d, %d of them best found by FaceBoxes\n", n_u, n_extra, n_fb);
    TEST_COND("ULFD through the interface: det_ulfd_detect's boxes >= min face, its scores, kind ulfd", u_same && n_u > 0);
    TEST_COND("fused: calibrated scores in (0,1) best first, no overlaps, confident MTCNN faces kept", f_ok && n_extra > 0 && n_fb > 0);
    // bad input to det_mtcnn_landmarks
    struct img im;
    if (fh_image_load(FH_MODELS "/samples/sample1.jpg", &im)) return 1;
    struct det_face out[2];
    float empty[4] = {10, 10, 10, 50}, nan_box[4] = {NAN, 0, 10, 10}, far[4] = {-1e9f, 0, 10, 10};
    float ok[4] = {100, 100, 200, 200};
    TEST_COND("empty box refused", det_mtcnn_landmarks(raw, &im, empty, 1, 1, out) == FH_E_ARG);
    TEST_COND("NaN box refused", det_mtcnn_landmarks(raw, &im, nan_box, 1, 1, out) == FH_E_ARG);
    TEST_COND("box far outside refused", det_mtcnn_landmarks(raw, &im, far, 1, 1, out) == FH_E_ARG);
    TEST_COND("scale outside [0.5, 3] refused", det_mtcnn_landmarks(raw, &im, ok, 1, 5, out) == FH_E_ARG);
    TEST_COND("too many boxes refused", det_mtcnn_landmarks(raw, &im, ok, FH_MAX_FACES + 1, 1, out) == FH_E_LIMIT);
    TEST_COND("no boxes: nothing to do", det_mtcnn_landmarks(raw, &im, NULL, 0, 1, NULL) == FH_OK);
    float edge[4] = {-30, -30, 60, 60}; // partly outside the image: padded with black
    TEST_COND("a box over the edge is fine", det_mtcnn_landmarks(raw, &im, edge, 1, 1, out) == FH_OK &&
                                                 out[0].lm_score >= 0 && out[0].lm_score <= 1);

    // the public API: cfg.detector picks it, faces say who found them
    struct fh_models *m;
    struct fh_engine *e;
    if (fh_models_load(FH_MODELS, 0, &m) || fh_engine_new(m, 1, &e)) {
        printf("%s\n", fh_errmsg());
        return 1;
    }
    struct fh_config cfg = fh_config_default();
    cfg.detector = FH_DETECTOR_HAAR;
    struct fh_face *ff;
    int nf, all_haar = 1;
    int rc = fh_detect(e, &im, &cfg, &ff, &nf);
    for (int i = 0; !rc && i < nf; i++) all_haar &= ff[i].detector == FH_DETECTOR_HAAR;
    TEST_COND("fh_detect with cfg.detector = haar: faces say haar", !rc && nf > 0 && all_haar);
    cfg.detector = 7;
    TEST_COND("fh_detect with an unknown detector: FH_E_ARG", fh_detect(e, &im, &cfg, &ff, &nf) == FH_E_ARG);
    fh_engine_free(e);
    fh_models_free(m);
    img_free(&im);
    detector_free(dm), detector_free(dh), det_mtcnn_free(raw), haar_free(hc);
    detector_free(du), detector_free(dfu), detector_free(dfb), det_ulfd_free(raw_u), nn_net_free(u);
    nn_net_free(fbnet);
    nn_net_free(p), nn_net_free(r), nn_net_free(o);
    return TEST_REPORT();
}
