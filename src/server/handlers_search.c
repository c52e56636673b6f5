// SPDX-License-Identifier: MIT
// Routes on the library as a whole: "who is this?" (search), regrouping (recluster; both slow:
// http.c runs them on a thread of their own), and the indexing status of the owner's uploads.
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "img/img.h"
#include "server/handlers_int.h"

#define SRV_SIMILAR_MAX 24 // nearest stored faces per searched face (those within the threshold are listed)

void srv_h_status(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "indexing");
    srv_indexer_status(S->ix, rq->owner, &w, srv_arg_int(rq, "recent", 20, 0, SRV_RECENT_MAX));
    // the library's model, the server's own, and a re-embed in progress (`facehatch reembed`)
    struct lib_reembed_status r;
    pthread_mutex_lock(&S->mu);
    int rc = lib_reembed_status(S->L, &r);
    const struct fh_embedder_id *me = lib_embedder(S->L);
    jw_key(&w, "server_model"), jw_obj(&w);
    jw_key(&w, "name"), jw_str(&w, me->name);
    jw_key(&w, "version"), jw_str(&w, me->version);
    jw_obj_end(&w);
    if (!rc) {
        jw_key(&w, "model");
        if (r.in_use.id) {
            jw_obj(&w);
            jw_key(&w, "name"), jw_str(&w, r.in_use.name);
            jw_key(&w, "version"), jw_str(&w, r.in_use.version);
            jw_key(&w, "faces"), jw_int(&w, r.in_use.faces);
            jw_obj_end(&w);
        } else {
            jw_null(&w);
        }
        jw_key(&w, "reembed");
        if (r.running) {
            jw_obj(&w);
            jw_key(&w, "name"), jw_str(&w, r.target.name);
            jw_key(&w, "version"), jw_str(&w, r.target.version);
            jw_key(&w, "staged"), jw_int(&w, r.staged);
            jw_key(&w, "pending"), jw_int(&w, r.pending);
            jw_obj_end(&w);
        } else {
            jw_null(&w);
        }
    }
    pthread_mutex_unlock(&S->mu);
    jw_obj_end(&w);
    if (rc) return srv_fail(rs, rc);
    srv_json_ok(rs, 200);
}

void srv_h_search(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    // the first file part, kept in memory by the spool (http.c), its size checked on arrival
    const struct srv_upfile *f = rq->n_files ? &rq->files[0] : NULL;
    if (!f) return srv_error(rs, 400, "no image in the request (a multipart part with a filename)");
    if (f->status) return srv_error(rs, f->status, "%s", f->msg);
    if (!srv_sniff_image(rq->body, rq->body_len))
        return srv_error(rs, 415, "%s: not a JPEG, PNG, HEIC or WebP image", f->name);
    struct img im;
    int rc = img_decode_mem(rq->body, rq->body_len, &im);
    if (rc) return srv_fail(rs, rc);
    struct lib_options o = lib_options_default();
    o.threads = S->cfg.threads;
    struct lib_match *m = NULL;
    int n = 0;
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "width"), jw_int(&w, im.w);
    jw_key(&w, "height"), jw_int(&w, im.h);
    jw_key(&w, "faces"), jw_arr(&w);
    struct fh_face *faces = NULL;
    rc = lib_embed(S->L, &im, &o, &faces, &n); // the models run outside the global lock
    pthread_mutex_lock(&S->mu);
    if (!rc) rc = lib_match(S->L, rq->owner, faces, n, &o, &m);
    fh_free(faces);
    for (int i = 0; !rc && i < n; i++) {
        jw_obj(&w);
        jw_key(&w, "box"), jw_arr(&w);
        for (int k = 0; k < 4; k++) jw_int(&w, m[i].face.box[k]);
        jw_arr_end(&w);
        jw_key(&w, "score"), jw_num(&w, m[i].face.score);
        jw_key(&w, "distance"), jw_num(&w, m[i].distance < 1e8f ? m[i].distance : NAN);
        jw_key(&w, "person");
        struct store_person sp;
        if (m[i].person_id && !lib_person_get(S->L, rq->owner, m[i].person_id, &sp)) srv_person_json(&w, &sp);
        else jw_null(&w);
        // "photos of this person": the nearest stored faces within the threshold, in a person or not
        struct lib_similar sim[SRV_SIMILAR_MAX];
        int ns = 0;
        rc = lib_similar(S->L, rq->owner, m[i].face.embedding, SRV_SIMILAR_MAX, sim, &ns);
        jw_key(&w, "similar"), jw_arr(&w);
        for (int k = 0; !rc && k < ns && sim[k].distance < o.cluster_t; k++) {
            jw_obj(&w);
            jw_key(&w, "face"), jw_int(&w, sim[k].face_id);
            jw_key(&w, "photo"), jw_int(&w, sim[k].photo_id);
            jw_key(&w, "person");
            if (sim[k].person_id) jw_int(&w, sim[k].person_id);
            else jw_null(&w);
            jw_key(&w, "distance"), jw_num(&w, sim[k].distance);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
    }
    pthread_mutex_unlock(&S->mu);
    fh_free(m);
    img_free(&im);
    if (rc) return srv_fail(rs, rc);
    jw_arr_end(&w);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

void srv_h_recluster(struct srv *S, const struct srv_req *rq, int64_t id, struct srv_resp *rs) {
    struct lib_options o = lib_options_default();
    o.threads = S->cfg.threads;
    struct lib_stats st;
    pthread_mutex_lock(&S->mu);
    int rc = lib_recluster(S->L, rq->owner, &o, &st);
    pthread_mutex_unlock(&S->mu);
    if (rc) return srv_fail(rs, rc);
    struct srv_json w;
    jw_init(&w, &rs->body);
    jw_obj(&w);
    jw_key(&w, "faces"), jw_int(&w, st.faces);
    jw_key(&w, "persons_new"), jw_int(&w, st.persons_new);
    jw_key(&w, "seconds"), jw_num(&w, st.seconds);
    jw_obj_end(&w);
    srv_json_ok(rs, 200);
}

