// SPDX-License-Identifier: MIT
// Verification metrics on hand-made cases with known answers, and the LFW list reader.
#include <math.h>
#include <stdio.h>

#include "base/base.h"
#include "eval/eval.h"
#include "harness.h"

int main(void) {
    // separable: same pairs at 0.2, 0.4; different at 0.9, 1.3 -> best t = 0.65, acc 1
    float d[4] = {0.2f, 0.9f, 0.4f, 1.3f};
    int s[4] = {1, 0, 1, 0};
    double acc;
    float t = eval_best_threshold(d, s, 4, &acc);
    TEST_COND("separable pairs: threshold between the classes, accuracy 1", acc == 1.0 && fabsf(t - 0.65f) < 1e-6f);
    // one overlap: same 0.2 0.8; diff 0.5 1.0 -> best accuracy 3/4
    float d2[4] = {0.2f, 0.8f, 0.5f, 1.0f};
    int s2[4] = {1, 1, 0, 0};
    eval_best_threshold(d2, s2, 4, &acc);
    TEST_COND("overlapping pairs: best accuracy 0.75", fabs(acc - 0.75) < 1e-12);
    TEST_COND("accuracy at t=0.6 is 0.5", fabs(eval_accuracy(d2, s2, 4, 0.6f) - 0.5) < 1e-12);
    // a missing face (inf) is always "different"
    float d3[2] = {INFINITY, 0.3f};
    int s3[2] = {1, 1};
    TEST_COND("an undetected face counts as a wrong same-pair", eval_accuracy(d3, s3, 2, 1.0f) == 0.5);
    // 2 folds of 4: fold 0 separable at ~0.5, fold 1 separable at ~1.0.
    float d4[8] = {0.1f, 0.2f, 0.6f, 0.7f, 0.8f, 0.9f, 1.1f, 1.2f};
    int s4[8] = {1, 1, 0, 0, 1, 1, 0, 0};
    double mean, se;
    float th[2];
    eval_kfold(d4, s4, 8, 2, &mean, &se, th);
    // fold 0 tested with t from fold 1 (1.0): 0.1,0.2 same ok; 0.6,0.7 diff -> wrong: 0.5
    // fold 1 tested with t from fold 0 (0.4): 0.8,0.9 wrong; 1.1,1.2 ok: 0.5
    TEST_COND("2-fold: thresholds come from the other fold", fabsf(th[0] - 1.0f) < 1e-6f && fabsf(th[1] - 0.4f) < 1e-6f);
    TEST_COND("2-fold: mean 0.5, std err 0", fabs(mean - 0.5) < 1e-12 && fabs(se) < 1e-12);
    // ROC / TAR@FAR: same 0.1 0.3 0.5; different 0.2 0.6 0.7 0.8
    float d5[7] = {0.1f, 0.3f, 0.5f, 0.2f, 0.6f, 0.7f, 0.8f};
    int s5[7] = {1, 1, 1, 0, 0, 0, 0};
    double far[8], tar[8];
    float thr[8];
    int k = eval_verify_roc(d5, s5, 7, far, tar, thr);
    TEST_COND("ROC: 8 points from (0,0) to (1,1)", k == 8 && far[0] == 0 && tar[0] == 0 && far[7] == 1 && tar[7] == 1);
    TEST_COND("ROC point after 0.1, 0.2: TAR 1/3, FAR 1/4", fabs(tar[2] - 1 / 3.0) < 1e-12 && fabs(far[2] - 0.25) < 1e-12);
    float t0;
    TEST_COND("TAR at FAR 0 is 1/3 (only 0.1 accepted)", fabs(eval_tar_at_far(d5, s5, 7, 0.0, &t0) - 1 / 3.0) < 1e-12 && t0 > 0.1f && t0 < 0.2f);
    TEST_COND("TAR at FAR 0.25 is 1 (threshold between 0.5 and 0.6)", fabs(eval_tar_at_far(d5, s5, 7, 0.25, &t0) - 1) < 1e-12 && t0 > 0.5f && t0 < 0.6f);
    // identification in 2-D: gallery A=(1,0) label 0, B=(0,1) label 1, distractor
    // D=(0.6,0.8) label -1; probes: (0.98,0.2) -> A (hit, label 0); (0.5,0.87) -> D (miss, label 1);
    // (0.1,0.99) -> B (hit, label 1)
    float g[6] = {1, 0, 0, 1, 0.6f, 0.8f}, pr[6] = {0.98f, 0.2f, 0.5f, 0.87f, 0.1f, 0.99f};
    int gl[3] = {0, 1, -1}, pl[3] = {0, 1, 1};
    TEST_COND("rank-1 with the distractor: 2/3", fabs(eval_rank1(g, gl, 3, pr, pl, 3, 2) - 2 / 3.0) < 1e-12);
    TEST_COND("rank-1 without it: 3/3", fabs(eval_rank1(g, gl, 2, pr, pl, 3, 2) - 1) < 1e-12);
    // open set: non-mated probes with best similarities 0.9 and 0.5 (FAR 0 allows none:
    // threshold 0.9); mated hits: A at 0.98 passes, B at 0.99 passes -> 2/3
    float nm[4] = {0.9f, 0.43589f, 0.5f, 0};
    float t_dir;
    double dir = eval_dir_at_far(g, gl, 3, pr, pl, 3, nm, 2, 2, 0.0, &t_dir);
    TEST_COND("DIR at FAR 0: threshold = best non-mated similarity, 2/3 pass", fabs(dir - 2 / 3.0) < 1e-12 && fabsf(t_dir - 0.9f) < 1e-5f);
    dir = eval_dir_at_far(g, gl, 3, pr, pl, 3, nm, 2, 2, 0.5, &t_dir);
    TEST_COND("DIR at FAR 0.5: one non-mated may pass (threshold 0.5), still 2/3", fabs(dir - 2 / 3.0) < 1e-12 && fabsf(t_dir - 0.5f) < 1e-5f);
    struct eval_pair *p;
    int n;
    int rc = eval_read_pairs(FH_SHARED "/data/lfw/pairsDevTest.txt", &p, &n);
    TEST_COND("pairsDevTest.txt: 1000 pairs, 500 same first", rc == 0 && n == 1000 && p[0].same && p[499].same && !p[500].same);
    if (!rc) fh_free(p);
    rc = eval_read_pairs(FH_SHARED "/data/lfw/pairs.txt", &p, &n);
    TEST_COND("pairs.txt: 6000 pairs, 300 same then 300 different per fold", rc == 0 && n == 6000 && p[600].same && !p[900].same && !p[599].same);
    if (!rc) fh_free(p);
    TEST_COND("a missing pair list is FH_E_IO", eval_read_pairs("/nonexistent/pairs.txt", &p, &n) == FH_E_IO);
    return TEST_REPORT();
}
