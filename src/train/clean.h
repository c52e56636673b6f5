// SPDX-License-Identifier: MIT
// clean: finds the images that do not belong in an identity folder of a training set
// (the talk's cleaning by clustering). DIR holds one folder per identity; for every
// folder, each image is detected, aligned and embedded by our pipeline, all faces of
// the folder are clustered (average linkage, faces of one photo never in one cluster),
// the largest cluster is the identity, and every other image gets a verdict:
//
//   wrong_person   a face, but none of the image's faces is in the main cluster
//   no_face        the detector finds no face
//   several_faces  two or more faces and none of them is in the main cluster (an image
//                  with several faces of which one is in the main cluster is kept)
//   unreadable     not a decodable image (or over the image limits)
//   junk           its only faces are so weak (best O-Net score < junk_score) or small
//                  (side < junk_side px) that they are not usable faces
//
//   struct clean_options o = clean_options_default();
//   struct clean_report r;
//   if (clean_dir(models, "data/train", &o, &r)) { fh_errmsg() ... }
//   for each r.folders[i].files[j] with reason != CLEAN_KEEP: flagged
//   clean_report_free(&r);
//
// Folders and files are listed in byte order of their names; dot files are skipped,
// plain files at the top of DIR are ignored. A folder with fewer than min_faces images
// with a face, or whose two largest clusters are the same size, cannot be judged:
// judged = 0 and only its unreadable files are flagged. Nothing is printed, moved or
// deleted. Thread safety: reentrant; runs `threads` worker threads, each with its own
// single-threaded engine over the shared models.
#ifndef FH_TRAIN_CLEAN_H
#define FH_TRAIN_CLEAN_H

#include "pipeline/facehatch.h"

enum clean_reason {
    CLEAN_KEEP = 0,
    CLEAN_WRONG_PERSON,
    CLEAN_NO_FACE,
    CLEAN_SEVERAL_FACES,
    CLEAN_UNREADABLE,
    CLEAN_JUNK,
    CLEAN_REASONS
};
// "keep", "wrong_person", "no_face", "several_faces", "unreadable", "junk"; NULL otherwise.
const char *clean_reason_name(int reason);

// Average-linkage threshold on the Euclidean embedding distance (0..2). Chosen on a noisy
// copy of celeba200/train (tools/inject_noise.sh make ... --seed 1: 12 % of images moved,
// one non-face crop per folder), sweeping 0.80..1.45 for average and single linkage:
// average linkage at 1.20 has the best F1 of the flags (precision 0.91, recall 0.98);
// 1.10 (about FH_VERIFY_THRESHOLD) keeps recall at 0.999 but precision falls to 0.87,
// 1.30 loses recall (0.88). Single linkage peaks a little higher (1.05: 0.91 / 0.985)
// but chains. Measured at 1.20 on another noisy copy (--seed 2 --unreadable 4): precision
// 0.910, recall 0.981 (wrong persons 0.974, non-face crops 1.0); see docs/TRAINING.md.
#define CLEAN_THRESHOLD 1.20f
#define CLEAN_JUNK_SCORE 0.90f  // best face's O-Net score below this: junk
#define CLEAN_JUNK_SIDE 24      // best face's box side below this (px): junk
#define CLEAN_MIN_FACES 3       // fewer images with a face: folder not judged
#define CLEAN_MAX_IMAGES 1000000    // images in one run
#define CLEAN_MAX_FACES_PER_IMAGE 32 // faces kept per image (the highest-scoring ones)

enum clean_linkage { CLEAN_AVERAGE = 0, CLEAN_SINGLE = 1 };

struct clean_options {
    float threshold;     // cluster distance threshold, (0, 2]
    int linkage;         // CLEAN_AVERAGE (default) or CLEAN_SINGLE
    float junk_score;    // 0 disables the score rule
    int junk_side;       // 0 disables the size rule
    int min_faces;       // >= 1
    int threads;         // worker threads; <= 0: all cores
    struct fh_config cfg; // detector/embedder settings (fh_config_default)
};
struct clean_options clean_options_default(void);

struct clean_file {
    char *name;          // file name inside its folder
    int reason;          // enum clean_reason
    int n_faces;         // faces detected (0 if unreadable)
    float score;         // best face's O-Net score (0 if none)
    float dist;          // distance of its nearest face to the main cluster's mean
                         // embedding (renormalised); -1 when it has no face or the
                         // folder was not judged
    char *error;         // unreadable: why (fh_errmsg text); else NULL
    int side;            // best face's box side (px)
    int n_emb;           // faces embedded (<= CLEAN_MAX_FACES_PER_IMAGE, best score first)
    float *emb;          // n_emb x FH_EMB_DIM (kept so clean_judge can re-decide)
};
struct clean_folder {
    char *name;
    struct clean_file *files;
    int n_files;
    int n_with_face;     // images with at least one face
    int n_main;          // images in the main cluster
    int judged;          // 0: too small or no clear largest cluster; nothing but
                         // unreadable files flagged
};
struct clean_report {
    struct clean_folder *folders;
    int n_folders;
    long n_images;
    long n_flagged;      // files with reason != CLEAN_KEEP
};

// Cleans every identity folder of dir. FH_OK; FH_E_IO when dir cannot be read (a
// sub-folder that cannot be listed is an error too); FH_E_NOTFOUND when dir holds no
// identity folder; FH_E_ARG for bad options; FH_E_LIMIT above CLEAN_MAX_IMAGES;
// FH_E_NOMEM. An image that cannot be decoded is a verdict (unreadable), not an error.
// On error *out is empty (nothing to free, freeing is harmless).
int clean_dir(const struct fh_models *m, const char *dir, const struct clean_options *o,
              struct clean_report *out);
// Decides the verdicts again from the embeddings in r (reasons, dist, judged, n_main,
// n_flagged) under other options (threshold, linkage, junk rules, min_faces; threads and
// cfg are not used). Unreadable files stay unreadable. FH_OK, FH_E_ARG, FH_E_NOMEM.
int clean_judge(struct clean_report *r, const struct clean_options *o);
void clean_report_free(struct clean_report *r);

#endif
