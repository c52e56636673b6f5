// SPDX-License-Identifier: MIT
// One face detector interface for the CLI and the evals: any detector of the public API
// (--detector mtcnn|haar|ulfd|faceboxes|fused; fh_config.detector), through fh_detect. Every box has landmarks
// (MTCNN's own, or O-Net's on another detector's box).
#ifndef FH_CLI_DETECTORS_H
#define FH_CLI_DETECTORS_H

#include "cli/cli.h"

struct cli_box {
    float x1, y1, x2, y2;   // pixels; MTCNN: inclusive integer box; Haar: x, y, x+w-1, y+h-1
    float score;            // the detector's ranking score (fh_face.raw_score; MTCNN: O-Net p;
                            // Haar: haar_det.score), for AP and ROC
    float landmarks[10];    // 5 points (MTCNN's, or O-Net's on the box)
    float face_p;           // face probability 0..1 (fh_face.score)
    int kind;               // FH_DETECTOR_* that found it (fused: the backend)
};

struct cli_detector;

// Opens the detector o->detector names ("mtcnn" default) on an engine of `threads`
// threads (the models are loaded: O-Net gives every detector landmarks). Prints the
// error, returns EXIT_FAIL.
int cli_detector_open(const struct cli_opts *o, int threads, struct cli_detector **out);
void cli_detector_close(struct cli_detector *d);
// Runs it on one image. *boxes belong to d (valid until the next run). FH_OK or an
// FH_E_* code with fh_errmsg() set.
int cli_detector_run(struct cli_detector *d, const struct img *im, struct cli_box **boxes, int *n);
const char *cli_detector_name(const struct cli_detector *d);

// Runs the detector o->detector names over n images on o->threads worker threads (all
// cores by default), one single-threaded detector each, images taken from a shared
// counter. path(ctx, i, buf, size) names image i; keep(ctx, i, im, boxes, nb) receives
// its result on a worker thread (each i once, so writing to slot i needs no lock) and
// returns FH_OK or an error. The first failure (unreadable image, keep's error) is
// printed and stops the run. Returns 0 or -1; *threads = workers used.
int cli_detect_each(const struct cli_opts *o, int n, void (*path)(void *ctx, int i, char *buf, size_t size),
                    int (*keep)(void *ctx, int i, const struct img *im, const struct cli_box *b, int nb),
                    void *ctx, int *threads);

#endif
