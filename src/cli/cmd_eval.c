// SPDX-License-Identifier: MIT
// facehatch eval BENCHMARK: the measuring instruments, one file each (eval_*.c).
// Every eval prints a human-readable table and ends stdout with one JSON line.
#include <string.h>

#include "cli/cli.h"
#include "detect/detector.h"

static const struct {
    const char *name;
    int (*fn)(const struct cli_opts *);
    const char *help;
} EVALS[] = {
    {"lfw", eval_lfw_cmd, "lfw [--view 1|2] [--plot ROC.svg]   LFW verification (View 2: 10-fold)"},
    {"wider", eval_wider_cmd, "wider [--detector D]              WIDER FACE val, 16-event subset, AP easy/medium/hard"},
    {"cmu-mit", eval_cmu_cmd, "cmu-mit [--detector D]            CMU+MIT frontal: AP and ROC (IoU; eyes+mouth points)"},
    {"landmarks", eval_landmarks_cmd, "landmarks [--detector D]          5-point error on MTFL (AFLW test crops)"},
    {"ident", eval_ident_cmd, "ident [--seed N]                  LFW identification with distractors"},
    {"cluster", eval_cluster_cmd, "cluster                           cluster all LFW faces, P/R/F"},
    {"persons", eval_persons_cmd, "persons [--known N] [--draws K]   the library's persons, people with 4..9 photos"},
    {"review", eval_review_cmd, "review [--known N] [--answers A] [--draws K] [--plot F.svg]   the review queue, simulated"},
    {"reembed", eval_reembed_cmd, "reembed --embedder F|--precision int8 [--known N] [--draws K]   names kept across a model switch"},
    {"pairs", NULL, "pairs --data DIR --ids A-B [--embedder M]   held-out identities: all pairs, 10-fold, TAR@FAR"},
};

int cmd_eval(int argc, char **argv) {
    const char *usage = "eval lfw|wider|cmu-mit|landmarks|ident|cluster [--data DIR] [--detector mtcnn|haar|ulfd|faceboxes|fused] "
                        "[--quick] [--threads N] [--no-flip] [--min-face N] [--thresh P,R,O]";
    if (argc >= 1 && !strcmp(argv[0], "pairs")) return cmd_eval_pairs(argc - 1, argv + 1);
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    // detection evals trace the whole PR curve: ULFD down to a lower score than photos use
    if (argc == 1 && (!strcmp(argv[0], "wider") || !strcmp(argv[0], "cmu-mit"))) {
        if (!o.ulfd_thresh) o.ulfd_thresh = DET_ULFD_THRESH_EVAL;
        if (!o.fb_thresh) o.fb_thresh = DET_FB_THRESH_EVAL;
    }
    for (size_t i = 0; argc == 1 && i < sizeof EVALS / sizeof *EVALS; i++)
        if (EVALS[i].fn && !strcmp(argv[0], EVALS[i].name)) return EVALS[i].fn(&o);
    fprintf(stderr, "facehatch: eval needs one benchmark name\nusage: facehatch %s\nbenchmarks:\n", usage);
    for (size_t i = 0; i < sizeof EVALS / sizeof *EVALS; i++) fprintf(stderr, "  %s\n", EVALS[i].help);
    return EXIT_USAGE;
}
