// SPDX-License-Identifier: MIT
// facehatch clean DIR: flag the images that do not belong in their identity folder
// (train/clean.h); with --move-to, move them out (never overwriting, never deleting).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "train/clean.h"

static const char *USAGE =
    "clean DIR [--json] [--move-to DIR] [--threshold T] [--linkage average|single] [--threads N]";

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

// moves src to dst without ever replacing dst: renameat2(RENAME_NOREPLACE), or on a file
// system without it link + unlink. 0, or -1 with errno.
static int move_noreplace(const char *src, const char *dst) {
#ifdef RENAME_NOREPLACE
    if (!renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE)) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
#endif
    if (link(src, dst)) return -1;
    return unlink(src);
}

// moves the flagged files of r into to/<identity>/; returns the number that failed
static int move_flagged(const char *dir, const struct clean_report *r, const char *to) {
    int failed = 0;
    if (mkdir(to, 0777) && errno != EEXIST) {
        fprintf(stderr, "facehatch: %s: cannot create folder: %s\n", to, strerror(errno));
        return (int)r->n_flagged;
    }
    for (int i = 0; i < r->n_folders; i++) {
        const struct clean_folder *f = &r->folders[i];
        char sub[4096], src[4096], dst[4096];
        int made = 0;
        for (int k = 0; k < f->n_files; k++) {
            const struct clean_file *cf = &f->files[k];
            if (cf->reason == CLEAN_KEEP) continue;
            if (snprintf(sub, sizeof sub, "%s/%s", to, f->name) >= (int)sizeof sub ||
                snprintf(src, sizeof src, "%s/%s/%s", dir, f->name, cf->name) >= (int)sizeof src ||
                snprintf(dst, sizeof dst, "%s/%s", sub, cf->name) >= (int)sizeof dst) {
                fprintf(stderr, "facehatch: %s/%s: path too long, not moved\n", f->name, cf->name);
                failed++;
                continue;
            }
            if (!made && mkdir(sub, 0777) && errno != EEXIST) {
                fprintf(stderr, "facehatch: %s: cannot create folder: %s\n", sub, strerror(errno));
                failed++;
                continue;
            }
            made = 1;
            if (move_noreplace(src, dst)) {
                fprintf(stderr, "facehatch: %s: not moved to %s: %s\n", src, dst,
                        errno == EEXIST ? "a file of that name is already there" : strerror(errno));
                failed++;
            }
        }
    }
    return failed;
}

static void print_json(const char *dir, const struct clean_report *r, double secs) {
    int not_judged = 0;
    for (int i = 0; i < r->n_folders; i++) {
        const struct clean_folder *f = &r->folders[i];
        if (!f->judged) {
            not_judged++;
            printf("{\"identity\":");
            json_str(stdout, f->name);
            printf(",\"judged\":false,\"images\":%d,\"with_face\":%d,\"why\":\"too few faces or no clear largest cluster\"}\n",
                   f->n_files, f->n_with_face);
        }
        for (int k = 0; k < f->n_files; k++) {
            const struct clean_file *cf = &f->files[k];
            if (cf->reason == CLEAN_KEEP) continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s/%s", dir, f->name, cf->name);
            printf("{\"file\":");
            json_str(stdout, path);
            printf(",\"identity\":");
            json_str(stdout, f->name);
            printf(",\"reason\":\"%s\",\"faces\":%d", clean_reason_name(cf->reason), cf->n_faces);
            if (cf->dist >= 0) printf(",\"distance\":%.4f", cf->dist);
            if (cf->n_faces) printf(",\"score\":%.4f", cf->score);
            if (cf->error) printf(",\"error\":"), json_str(stdout, cf->error);
            printf("}\n");
        }
    }
    printf("{\"folders\":%d,\"images\":%ld,\"flagged\":%ld,\"not_judged\":%d,\"seconds\":%.1f}\n",
           r->n_folders, r->n_images, r->n_flagged, not_judged, secs);
}

static void print_table(const struct clean_report *r, double secs) {
    int not_judged = 0;
    long by[CLEAN_REASONS] = {0};
    printf("%-24s %-32s %-14s %s\n", "identity", "file", "reason", "detail");
    for (int i = 0; i < r->n_folders; i++) {
        const struct clean_folder *f = &r->folders[i];
        if (!f->judged) {
            not_judged++;
            printf("%-24s %-32s %-14s %d images, %d with a face: not judged\n", f->name, "-", "-",
                   f->n_files, f->n_with_face);
        }
        for (int k = 0; k < f->n_files; k++) {
            const struct clean_file *cf = &f->files[k];
            if (cf->reason == CLEAN_KEEP) continue;
            by[cf->reason]++;
            printf("%-24s %-32s %-14s ", f->name, cf->name, clean_reason_name(cf->reason));
            if (cf->error) printf("%s\n", cf->error);
            else if (cf->dist >= 0) printf("%d face(s), distance to identity %.3f, score %.3f\n", cf->n_faces, cf->dist, cf->score);
            else printf("%d face(s)\n", cf->n_faces);
        }
    }
    printf("\n%d folders, %ld images, %ld flagged", r->n_folders, r->n_images, r->n_flagged);
    for (int c = 1; c < CLEAN_REASONS; c++)
        if (by[c]) printf(", %ld %s", by[c], clean_reason_name(c));
    printf("; %d folders not judged; %.1f s\n", not_judged, secs);
}

int cmd_clean(int argc, char **argv) {
    struct clean_options co = clean_options_default();
    const char *move_to = NULL;
    // our own options first; cli_parse handles the rest
    int k = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--move-to") || !strcmp(a, "--threshold") || !strcmp(a, "--linkage")) {
            char *end = NULL;
            int bad = !val || !*val;
            if (!bad && !strcmp(a, "--move-to")) move_to = val;
            else if (!bad && !strcmp(a, "--threshold")) {
                co.threshold = strtof(val, &end);
                bad = *end || !(co.threshold > 0 && co.threshold <= 2);
            } else if (!bad) {
                co.linkage = !strcmp(val, "single") ? CLEAN_SINGLE : CLEAN_AVERAGE;
                bad = strcmp(val, "single") && strcmp(val, "average");
            }
            if (bad) {
                fprintf(stderr, "facehatch: option '%s' needs a valid value%s\nusage: facehatch %s\n", a,
                        !strcmp(a, "--threshold") ? " (a distance in (0, 2])" : "", USAGE);
                return EXIT_USAGE;
            }
            i++;
        } else argv[k++] = argv[i];
    }
    argc = k;
    struct cli_opts o;
    int rc = cli_parse(&argc, argv, &o, USAGE);
    if (rc) return rc;
    if (argc != 1) {
        fprintf(stderr, "facehatch: clean takes exactly one folder\nusage: facehatch %s\n", USAGE);
        return EXIT_USAGE;
    }
    const char *dir = argv[0];
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "facehatch: %s: %s\n", dir, stat(dir, &st) ? strerror(errno) : "not a folder");
        return EXIT_FAIL;
    }
    co.threads = o.threads;
    co.cfg = cli_config(&o);
    struct fh_models *m;
    if ((rc = cli_models_load(&o, &m))) return rc;
    double t0 = now_s();
    struct clean_report r;
    if (clean_dir(m, dir, &co, &r)) {
        fprintf(stderr, "facehatch: %s\n", fh_errmsg());
        fh_models_free(m);
        return EXIT_FAIL;
    }
    fh_models_free(m);
    double secs = now_s() - t0;
    if (o.json) print_json(dir, &r, secs);
    else print_table(&r, secs);
    fflush(stdout);
    rc = EXIT_OK;
    if (move_to && r.n_flagged) {
        int failed = move_flagged(dir, &r, move_to);
        if (failed) {
            fprintf(stderr, "facehatch: %d of %ld flagged files not moved\n", failed, r.n_flagged);
            rc = EXIT_FAIL;
        } else if (!o.json) printf("moved %ld files into %s/<identity>/\n", r.n_flagged, move_to);
    }
    clean_report_free(&r);
    return rc;
}
