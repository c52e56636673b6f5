// SPDX-License-Identifier: MIT
// facehatch: command-line entry. Subcommands come from one table; --help is generated.
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} COMMANDS[] = {
    {"detect", cmd_detect, "detect [--detector D] IMAGE...      faces: box, score, 5 landmarks (JSON lines)"},
    {"embed", cmd_embed, "embed [--no-flip] [--min-face N] IMAGE...   faces with 192-D embeddings"},
    {"verify", cmd_verify, "verify IMAGE_A IMAGE_B              same person? (most central face of each)"},
    {"bench", cmd_bench, "bench [--runs N]                    per-net and end-to-end timings"},
    {"eval", cmd_eval, "eval lfw|wider|cmu-mit|ident|cluster   the measuring instruments (see eval --help)"},
    {"index", cmd_index, "index DIR... --db LIB.db               add/update photos in a library"},
    {"worker", cmd_worker, "worker --db postgres://URL [--threads N] [--exit-when-idle]   run queued indexing jobs"},
    {"persons", cmd_persons, "persons --db LIB.db [--json]        the persons found (unknown faces last)"},
    {"person", cmd_person, "person NAME|ID|new NAME FACE...|delete ID --db LIB.db   one person; new; delete"},
    {"rename", cmd_rename, "rename ID NAME --db LIB.db          name a person"},
    {"merge", cmd_merge, "merge INTO_ID FROM_ID --db LIB.db    two persons are one"},
    {"face", cmd_face, "face move|reject FACE_ID PERSON_ID --db LIB.db   correct one face"},
    {"hide", cmd_hide, "hide ID|NAME --db LIB.db [--show]      hide a person (or show it again)"},
    {"photo", cmd_photo, "photo delete PHOTO_ID --db LIB.db      remove a photo from the library"},
    {"recognition", cmd_recognition, "recognition off|on --db LIB.db      face recognition off (deletes faces) / on"},
    {"undo", cmd_undo, "undo --db LIB.db                     take back your last change"},
    {"search", cmd_search, "search --db LIB.db IMAGE            who is this? (each face)"},
    {"recluster", cmd_recluster, "recluster --db LIB.db               regroup all faces (keeps your corrections)"},
    {"export-xmp", cmd_export_xmp, "export-xmp --db LIB.db [--sidecar|--in-file]   named faces as XMP face regions (MWG)"},
    {"reembed", cmd_reembed, "reembed --db LIB.db --embedder FILE|--precision int8   switch the model, keep every name"},
    {"user", cmd_user, "user add|del|list|passwd|token ... --db LIB.db   accounts (see user --help)"},
    {"serve", cmd_serve, "serve --db LIB.db [--bind 127.0.0.1] [--port 8080]   web UI + JSON API (docs/http-api.md)"},
    {"version", cmd_version, "version (or --version)              the version; each model's pinned sha256 and the found file's"},
    {"model", cmd_model, "model convert IN.tflite OUT.fhm | model info FILE   our model file (.fhm)"},
    {"train", cmd_train, "train --data DIR --loss L --out MODEL [...]   train an embedder (see train --help)"},
    {"clean", cmd_clean, "clean DIR [--json] [--move-to DIR] [--threshold T]   flag images not of their identity folder's person"},
    {"calibrate", cmd_calibrate, "calibrate [--write FILE]            re-derive the blur and not-a-face constants"},
    {"calibrate-int8", cmd_quantize, "calibrate-int8 [--n N] [--write FILE]   int8 activation scales (LFW View 1 train)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: facehatch COMMAND [OPTIONS] ARGS\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++) fprintf(f, "  %s\n", COMMANDS[i].help);
    fprintf(f, "\nlibrary commands take --user NAME (default \"local\") and --embedder FILE (the library's model;\n"
               "  a library never mixes models: index, search, recluster and serve refuse another one).\ncommon options: --models DIR (default: the first of $FACEHATCH_MODELS, the XDG data dirs\n"
               "  + facehatch/models, %s/share/facehatch/models, ./models; see man facehatch), --threads N,\n"
               "  --ref (scalar reference kernels; also FH_FORCE_REF=1), --packed-pyramid,\n"
               "  --precision fp32|int8 (int8: the embedder's convs in int8; a library records it),\n"
               "  --embedder FILE (a .fhm or .tflite embedder instead of MobileFaceNet.tflite)\n"
               "output: one JSON object per line on stdout; errors on stderr.\n"
               "exit status: 0 ok, 1 a failure (bad image, missing model, ...), 2 usage error\n",
            cli_models_prefix());
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) return cmd_version(argc - 2, argv + 2);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].fn(argc - 2, argv + 2);
    fprintf(stderr, "facehatch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
