// SPDX-License-Identifier: MIT
// CLI internals: the subcommand table entries, shared option parsing and JSON output.
// Only cli/ (and server/) decide thread counts, read the environment and exit.
#ifndef FH_CLI_H
#define FH_CLI_H

#include <stdio.h>

#include "pipeline/facehatch.h"

// exit codes
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

// options every command that runs the models understands
struct cli_opts {
    const char *models;   // the models folder cli_models_find chose (or, when none holds
                          // them, --models DIR or "./models"); see models_found
    const char *models_arg; // --models DIR as given, or NULL
    int models_found;     // 1 when `models` holds every model file
    int threads;          // --threads N (default 0 = all cores)
    int ref;              // --ref: scalar reference kernels
    int int8;             // --precision int8 (default fp32): FH_LOAD_INT8
    int min_face;         // --min-face N
    int min_face_given;   // 1 if --min-face was on the command line
    float thresh[3];      // --thresh P,R,O: MTCNN P-/R-/O-Net score thresholds, each in
                          // (0,1) (default fh_config_default's 0.6,0.7,0.7)
    int flip;             // --no-flip clears it
    int packed;           // --packed-pyramid
    const char *data;     // --data DIR (evaluation data, default ../shared/data)
    int view;             // --view 1|2
    const char *detector; // --detector mtcnn|haar|ulfd|faceboxes|fused (default mtcnn)
    int ulfd_width;       // --ulfd-width N (ULFD/fused: ULFD's input width; 0 = 640)
    float ulfd_thresh;    // --ulfd-thresh T (ULFD/fused score threshold; 0 = the default)
    int fb_width;         // --faceboxes-width N (FaceBoxes/fused; 0 = 1024)
    float fb_thresh;      // --faceboxes-thresh T (0 = the default)
    int fuse_small;       // --fuse-small PX (fused: ULFD at twice its width for faces under PX)
    const char *plot;     // --plot FILE (ROC curve, SVG)
    int quick;            // --quick: the small subset the default test run uses
    const char *events;   // --events tune|test|E1,E2,... (eval wider: which events; tune =
                          // the 1st, 3rd, ... of the sorted events, test = the others)
    const char *results;  // --results DIR (eval wider: score official result files in DIR
                          // instead of running a detector)
    int seed;             // --seed N (ident/cluster sampling; default 1)
    int synthetic;        // --synthetic N (eval ident: N generated distractors in the int8 gallery)
    int known, draws;     // --known N, --draws K (eval persons: identities with 4..9 images, draws)
    int batches;          // --batches B (eval persons: index in B parts)
    int answers;          // --answers N (eval review: questions the simulated user answers)
    const char *db;       // --db FILE or postgres://URL (photo library); $FACEHATCH_DB when absent
    int enqueue_only;     // --enqueue-only (index: queue jobs for workers instead of indexing)
    int exit_when_idle;   // --exit-when-idle (worker: return once the queue is empty)
    int status;           // --status (reembed: show the model and a re-embed in progress)
    int lease;            // --lease S (worker: seconds a claimed job is held; 0 = 60)
    int json;             // --json
    int xmp_where;        // export-xmp: --sidecar (1, the default) or --in-file (2); 0 neither, 3 both given
    int import_xmp;       // --import-xmp (index: read the photos' XMP face regions as the user's names)
    const char *user;     // --user NAME (library commands; default "local")
    const char *embedder; // --embedder FILE (.fhm or .tflite) instead of the pinned
                          // MobileFaceNet (fh_models_load_embedder), or NULL
};

// Parses argv (after the subcommand name), removing the options it knows; what is
// left (positional arguments) is compacted into argv[0..*argc). Returns 0, or prints a
// usage error to stderr and returns EXIT_USAGE.
int cli_parse(int *argc, char **argv, struct cli_opts *o, const char *usage);
struct fh_config cli_config(const struct cli_opts *o);
// Loads the models and an engine; prints the error and returns EXIT_FAIL on failure.
int cli_load(const struct cli_opts *o, int threads, struct fh_models **m, struct fh_engine **e);

// ---- the models folder (cli/models_dir.c) ----
// The one search for the models. With --models DIR (explicit_dir) only DIR is tried: if it
// lacks them, that is the error, with no fallback. Otherwise, in order: $FACEHATCH_MODELS;
// $XDG_DATA_HOME/facehatch/models (unset: ~/.local/share/facehatch/models); each of
// $XDG_DATA_DIRS (unset: /usr/local/share:/usr/share) + /facehatch/models; the install
// prefix compiled in (cli_models_prefix()/share/facehatch/models); ./models (a source
// checkout). Relative XDG paths are ignored (XDG spec); a folder is tried once. The first
// folder holding every model file (fh_model_file) wins; their checksums are checked later,
// by fh_models_load. Returns that folder (static storage, valid until the next call) or
// NULL; when report is not NULL each folder tried and not chosen is written to it, one a
// line with why it was tried and the file it lacks. cli_parse calls it once (quietly).
const char *cli_models_find(const char *explicit_dir, FILE *report);
// The install prefix compiled in (-DFH_PREFIX, from the Makefile's PREFIX).
const char *cli_models_prefix(void);
// EXIT_OK when cli_parse found the models; otherwise prints every place tried and how to
// fetch the models to stderr and returns EXIT_FAIL. For commands that need the models.
int cli_models_need(const struct cli_opts *o);
// cli_models_need, then fh_models_load(o->models) with --ref and --embedder honoured;
// prints any error.
int cli_models_load(const struct cli_opts *o, struct fh_models **m);

// JSON output helpers (stdout)
void json_str(FILE *f, const char *s);
void json_face(FILE *f, const struct fh_face *face, int with_embedding);
// The detector settings of the detection evals: human (", min face N px, thresholds
// P/R/O"; nothing for haar, which has neither) and JSON (",\"min_face\":N,\"thresh\":[P,R,O]",
// thresh null for haar).
void cli_print_det_settings(FILE *f, const struct cli_opts *o);
void cli_json_det_settings(FILE *f, const struct cli_opts *o);

// ---- photo-library helpers ----
struct lib;
// cmd_library.c's opening of --db for --user (need_models: the command runs the models);
// prints what went wrong; an exit code
int cli_lib_open(const struct cli_opts *o, const char *usage, int need_models, struct lib **L, int64_t *owner);
// index --import-xmp (cmd_xmp.c): the photos' XMP face regions under the roots read as the
// user's names; prints one JSON line ({"xmp_import":{...}}) and each problem; an exit code
int cli_xmp_import(struct lib *L, int64_t owner, char **roots, int n_roots);

// ---- LFW helpers (cli/lfw_common.c) ----
// Embeds the most central face of each image (paths relative to <o->data>/lfw/) with
// one single-threaded engine per thread (o->threads, default all cores). emb: n x 192,
// found: n flags (0 = no face or unreadable). Returns the number not found.
int cli_embed_central(const struct cli_opts *o, const struct fh_models *m, char **paths, int n,
                      float *emb, char *found);
// The whole LFW folder: identities (folders) sorted by name, images sorted within.
struct cli_lfw {
    int n, n_ids;
    char **paths;   // n, relative to <data>/lfw/
    int *label;     // n, identity index
    char **names;   // n_ids
};
int cli_lfw_list(const char *data, struct cli_lfw *l);
void cli_lfw_free(struct cli_lfw *l);

// ---- SVG charts (cli/plot.c) ----
struct cli_curve {
    const double *x, *y;
    int n;
    const char *label;
};
// Writes nc curves into one SVG line chart; logx: log-scale x from xmin to xmax.
int cli_svg_curves(const char *path, const char *title, const char *xlabel, const char *ylabel,
                   const struct cli_curve *c, int nc, int logx, double xmin, double xmax,
                   double ymin, double ymax);

int cmd_detect(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_persons(int argc, char **argv);
int cmd_person(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_face(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_recluster(int argc, char **argv);
int cmd_export_xmp(int argc, char **argv);   // cli/cmd_xmp.c
int cmd_reembed(int argc, char **argv);
int cmd_photo(int argc, char **argv);
int cmd_hide(int argc, char **argv);
int cmd_undo(int argc, char **argv);
int cmd_recognition(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval_pairs(int argc, char **argv); // eval pairs (cmd_train.c)
int cmd_clean(int argc, char **argv);

// the evals (cli/eval_*.c); each returns an exit code
int eval_persons_cmd(const struct cli_opts *o);
int eval_reembed_cmd(const struct cli_opts *o);
int eval_review_cmd(const struct cli_opts *o);
int eval_lfw_cmd(const struct cli_opts *o);
int eval_wider_cmd(const struct cli_opts *o);
int eval_cmu_cmd(const struct cli_opts *o);
int eval_landmarks_cmd(const struct cli_opts *o);
int eval_ident_cmd(const struct cli_opts *o);
int eval_cluster_cmd(const struct cli_opts *o);

#endif
