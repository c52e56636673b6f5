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
    const char *models;   // --models DIR (default: $FACEHATCH_MODELS or "models")
    int threads;          // --threads N (default 0 = all cores)
    int ref;              // --ref: scalar reference kernels
    int min_face;         // --min-face N
    int min_face_given;   // 1 if --min-face was on the command line
    int flip;             // --no-flip clears it
    int packed;           // --packed-pyramid
    const char *data;     // --data DIR (evaluation data, default ../shared/data)
    int view;             // --view 1|2
};

// Parses argv (after the subcommand name), removing the options it knows; what is
// left (positional arguments) is compacted into argv[0..*argc). Returns 0, or prints a
// usage error to stderr and returns EXIT_USAGE.
int cli_parse(int *argc, char **argv, struct cli_opts *o, const char *usage);
struct fh_config cli_config(const struct cli_opts *o);
// Loads the models and an engine; prints the error and returns EXIT_FAIL on failure.
int cli_load(const struct cli_opts *o, int threads, struct fh_models **m, struct fh_engine **e);

// JSON output helpers (stdout)
void json_str(FILE *f, const char *s);
void json_face(FILE *f, const struct fh_face *face, int with_embedding);

int cmd_detect(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif
