// SPDX-License-Identifier: MIT
// facehatch --version: the version, the install prefix, and for each model file its
// pinned sha256 and whether the file found on this machine matches it.
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "cli/cli.h"

#ifndef FH_VERSION
#define FH_VERSION "0.7.0" // the Makefile passes -DFH_VERSION (git describe in a checkout)
#endif

int cmd_version(int argc, char **argv) {
    const char *usage = "--version [--models DIR]";
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, usage);
    if (rc) return rc;
    if (argc) {
        fprintf(stderr, "facehatch: --version takes no arguments ('%s')\nusage: facehatch %s\n", argv[0], usage);
        return EXIT_USAGE;
    }
    printf("facehatch %s\ninstall prefix: %s\n", FH_VERSION, cli_models_prefix());
    char abs[PATH_MAX];
    if (o.models_found) {
        printf("models: %s\n", realpath(o.models, abs) ? abs : o.models);
    } else {
        printf("models: not found; looked in:\n");
        cli_models_find(o.models_arg, stdout);
    }
    for (int i = 0; i < FH_MODEL_FILES; i++) {
        const char *sum, *name = fh_model_file(i, &sum);
        printf("  %-22s sha256 %s  ", name, sum);
        if (!o.models_found) {
            puts("not found");
            continue;
        }
        char path[PATH_MAX + 64], hex[65];
        uint8_t *buf;
        size_t n;
        snprintf(path, sizeof path, "%s/%s", o.models, name);
        if (fh_read_file(path, FH_MAX_MODEL_BYTES, &buf, &n)) {
            printf("unreadable: %s\n", fh_errmsg());
            continue;
        }
        fh_sha256_hex(buf, n, hex);
        fh_free(buf);
        if (!strcmp(hex, sum)) puts("ok");
        else printf("ALTERED (sha256 %s; run `make models` or tools/fetch_models.sh again)\n", hex);
    }
    return EXIT_OK;
}
