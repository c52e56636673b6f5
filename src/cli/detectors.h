// SPDX-License-Identifier: MIT
// One face detector interface for the CLI and the evals: MTCNN (through the public
// API) or the Viola-Jones Haar baseline, chosen by --detector mtcnn|haar.
#ifndef FH_CLI_DETECTORS_H
#define FH_CLI_DETECTORS_H

#include "cli/cli.h"

struct cli_box {
    float x1, y1, x2, y2;   // pixels; MTCNN: inclusive integer box; Haar: x, y, x+w-1, y+h-1
    float score;            // higher = more confident (MTCNN: O-Net p; Haar: haar_det.score)
    float landmarks[10];    // MTCNN only (zeros for Haar)
};

struct cli_detector;

// Opens the detector o->detector names ("mtcnn" default, or "haar") with `threads`
// threads (MTCNN engine; Haar is single-threaded). Prints the error, returns EXIT_FAIL.
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
