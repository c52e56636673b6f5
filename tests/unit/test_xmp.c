// SPDX-License-Identifier: MIT
// meta/xmp.h: MWG face regions. Geometry against a hand-derived table of the 8 EXIF
// orientations; parsing of hostile packets (NaN, areas outside the image, huge or control
// names, too many regions, not XML, entity bombs); writing: foreign regions kept, ours
// replaced, the same face named by another program replaced, idempotent, a changed aspect
// refused; inside a JPEG: pixels untouched, backup kept once. ExifTool's view of what we write
// is tests/cli/test_xmp.sh's.
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "harness.h"
#include "meta/xmp.h"

static const char *HEAD =
    "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
    "<rdf:Description rdf:about='' xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/'"
    " xmlns:stDim='http://ns.adobe.com/xap/1.0/sType/Dimensions#' xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'"
    " xmlns:dc='http://purl.org/dc/elements/1.1/'>";
static const char *TAIL = "</rdf:Description></rdf:RDF></x:xmpmeta>";

// a packet with dims and the given <rdf:li> items (and a dc:title to see it kept)
static char *packet(int w, int h, const char *items) {
    size_t n = strlen(HEAD) + strlen(TAIL) + strlen(items) + 1024;
    char *p = malloc(n);
    snprintf(p, n,
             "%s<dc:title><rdf:Alt><rdf:li xml:lang='x-default'>Holiday</rdf:li></rdf:Alt></dc:title>"
             "<mwg-rs:Regions rdf:parseType='Resource'><mwg-rs:AppliedToDimensions rdf:parseType='Resource'>"
             "<stDim:w>%d</stDim:w><stDim:h>%d</stDim:h><stDim:unit>pixel</stDim:unit></mwg-rs:AppliedToDimensions>"
             "<mwg-rs:RegionList><rdf:Bag>%s</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>%s",
             HEAD, w, h, items, TAIL);
    return p;
}

static void item(char *buf, size_t n, const char *x, const char *y, const char *w, const char *h, const char *type,
                 const char *name) {
    snprintf(buf, n,
             "<rdf:li rdf:parseType='Resource'><mwg-rs:Area rdf:parseType='Resource'><stArea:x>%s</stArea:x>"
             "<stArea:y>%s</stArea:y><stArea:w>%s</stArea:w><stArea:h>%s</stArea:h><stArea:unit>normalized</stArea:unit>"
             "</mwg-rs:Area><mwg-rs:Type>%s</mwg-rs:Type><mwg-rs:Name>%s</mwg-rs:Name></rdf:li>",
             x, y, w, h, type, name);
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static int same_file(const char *a, const char *b) {
    uint8_t *x, *y;
    size_t nx, ny;
    if (fh_read_file(a, 1u << 26, &x, &nx)) return 0;
    if (fh_read_file(b, 1u << 26, &y, &ny)) return fh_free(x), 0;
    int same = nx == ny && !memcmp(x, y, nx);
    fh_free(x), fh_free(y);
    return same;
}

static int find(const struct meta_regions *r, const char *name) {
    int k = 0;
    for (int i = 0; i < r->n; i++) k += !strcmp(r->v[i].name, name);
    return k;
}

static void test_geometry(void) {
    // a 40x30 (upright) photo, box x 2..11, y 5..9 (inclusive): [2, 12) x [5, 10)
    const int box[4] = {2, 5, 11, 9}, W = 40, H = 30;
    // the same rectangle in the stored image, by hand from the EXIF definitions (stored row 0 is
    // shown at the top for 1, at the right for 6, ...): u0, v0, u1, v1 in stored pixels
    static const double want[9][4] = {
        {0}, {2, 5, 12, 10},                        // 1: as shown, stored 40x30
        {28, 5, 38, 10}, {28, 20, 38, 25},          // 2: mirrored; 3: turned 180
        {2, 20, 12, 25},                            // 4: flipped upside down
        {5, 2, 10, 12}, {5, 28, 10, 38},            // 5: transposed (stored 30x40); 6: shown turned 90 cw
        {20, 28, 25, 38}, {20, 2, 25, 12},          // 7: transverse; 8: shown turned 90 ccw
    };
    int ok = 1, back = 1;
    for (int o = 1; o <= 8; o++) {
        struct meta_region r = {0};
        meta_area_from_box(o, W, H, box, &r);
        double sw = o >= 5 ? H : W, sh = o >= 5 ? W : H;
        double got[4] = {(r.x - r.w / 2) * sw, (r.y - r.h / 2) * sh, (r.x + r.w / 2) * sw, (r.y + r.h / 2) * sh};
        for (int k = 0; k < 4; k++) ok &= fabs(got[k] - want[o][k]) < 1e-9;
        double b[4];
        meta_area_to_box(o, W, H, &r, b);
        const double c[4] = {2, 5, 12, 10};
        for (int k = 0; k < 4; k++) back &= fabs(b[k] - c[k]) < 1e-9;
    }
    TEST_COND("areas in the stored frame match the hand table for EXIF orientations 1..8", ok);
    TEST_COND("meta_area_to_box inverts meta_area_from_box for all 8", back);
}

static void test_parse(void) {
    char a[1024], b[1024], c[1024], d[1024], e[1024], f[1024], g[2048], all[8192];
    item(a, sizeof a, "0.5", "0.4", "0.2", "0.3", "Face", "Anna");
    item(b, sizeof b, "NaN", "0.4", "0.2", "0.3", "Face", "Nan");
    item(c, sizeof c, "1.5", "0.4", "0.2", "0.3", "Face", "Outside");
    item(d, sizeof d, "0.5", "0.4", "-0.2", "0.3", "Face", "Negative");
    item(e, sizeof e, "0.95", "0.5", "0.2", "0.2", "Pet", "Rex");   // clipped at the right edge
    item(f, sizeof f, "0.6", "0.4", "0.2", "0.3", "Face", "Bad&#x1;Name");
    char longname[400];
    memset(longname, 'x', 300), longname[300] = 0;
    item(g, sizeof g, "0.3", "0.3", "0.1", "0.1", "Face", longname);
    snprintf(all, sizeof all, "%s%s%s%s%s%s%s", a, b, c, d, e, f, g);
    char *p = packet(4000, 3000, all);
    struct meta_regions r;
    int rc = meta_regions_parse(p, strlen(p), &r);
    TEST_COND("a packet with 7 regions parses", rc == FH_OK);
    TEST_COND("AppliedToDimensions 4000x3000", r.dim_w == 4000 && r.dim_h == 3000);
    TEST_COND("3 usable (Anna, Rex, the control character's), 4 skipped (NaN, outside, negative, 300-byte name)",
              r.n == 3 && r.skipped == 4 && find(&r, "Anna") == 1 && find(&r, "Rex") == 1);
    TEST_COND("no control character reaches a name (the XMP parser makes &#x1; a space)",
              r.n == 3 && meta_name_ok(r.v[2].name) && !strchr(r.v[2].name, 1));
    TEST_COND("Anna: area, Face, not ours",
              r.n >= 1 && fabs(r.v[0].x - 0.5) < 1e-12 && fabs(r.v[0].h - 0.3) < 1e-12 && r.v[0].face && !r.v[0].ours);
    TEST_COND("Rex: a Pet, not a face; clipped to the image (x 0.85..1)",
              r.n == 3 && !r.v[1].face && fabs(r.v[1].x - 0.925) < 1e-9 && fabs(r.v[1].w - 0.15) < 1e-9);
    meta_regions_free(&r);
    free(p);

    rc = meta_regions_parse("this is not XML <<<", 19, &r);
    TEST_COND("text that is not XMP: FH_E_FORMAT", rc == FH_E_FORMAT && r.n == 0 && strstr(fh_errmsg(), "not valid XMP"));
    const char *bomb = "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
                       "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>"
                       "<!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>"
                       "<!ENTITY g '&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;'><!ENTITY h '&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;'>]>"
                       "<x:xmpmeta xmlns:x='adobe:ns:meta/'>&h;</x:xmpmeta>";
    rc = meta_regions_parse(bomb, strlen(bomb), &r);
    TEST_COND("an entity bomb is refused or harmless (no regions, no crash)", r.n == 0);
    meta_regions_free(&r);

    // FH_MAX_XMP_REGIONS + 1 regions
    size_t cap = (size_t)(FH_MAX_XMP_REGIONS + 1) * 400 + 1;
    char *many = malloc(cap), one[1024];
    many[0] = 0;
    size_t len = 0;
    item(one, sizeof one, "0.5", "0.5", "0.1", "0.1", "Face", "Crowd");
    for (int i = 0; i <= FH_MAX_XMP_REGIONS; i++) memcpy(many + len, one, strlen(one) + 1), len += strlen(one);
    p = packet(100, 100, many);
    rc = meta_regions_parse(p, strlen(p), &r);
    TEST_COND("more than FH_MAX_XMP_REGIONS regions: FH_E_LIMIT", rc == FH_E_LIMIT && r.n == 0 && !r.v);
    free(p), free(many);

    char side[64];
    TEST_COND("sidecar names: photo.jpg.xmp and photo.xmp",
              !meta_sidecar_path("/a/b.c/photo.jpg", 1, side, sizeof side) && !strcmp(side, "/a/b.c/photo.jpg.xmp") &&
                  !meta_sidecar_path("/a/b.c/photo.jpg", 0, side, sizeof side) && !strcmp(side, "/a/b.c/photo.xmp") &&
                  !meta_sidecar_path("/a/b.c/photo", 0, side, sizeof side) && !strcmp(side, "/a/b.c/photo.xmp"));
    TEST_COND("meta_name_ok: UTF-8 yes; control, C1, overlong, bad bytes no",
              meta_name_ok("Zoë Ünal") && meta_name_ok("") && !meta_name_ok("a\nb") && !meta_name_ok("\xc2\x85") &&
                  !meta_name_ok("\xc0\xaf") && !meta_name_ok("\xff") && !meta_name_ok("\xe2\x82"));
}

static void test_write(const char *dir) {
    char path[512], foreign[2048], one[1024];
    snprintf(path, sizeof path, "%s/p.jpg.xmp", dir);
    item(one, sizeof one, "0.2", "0.2", "0.1", "0.1", "Face", "Stranger");   // far from ours
    item(foreign, sizeof foreign, "0.7", "0.5", "0.2", "0.3", "Face", "Anna L.");   // where ours will be
    strcat(foreign, one);
    char more[1024];
    item(more, sizeof more, "0.7", "0.5", "0.2", "0.3", "Pet", "Rex");   // same place, not a face
    strcat(foreign, more);
    char *p = packet(400, 300, foreign);
    write_text(path, p);
    free(p);

    struct meta_region ours[2] = {{.x = 0.7, .y = 0.5, .w = 0.2, .h = 0.3, .face = 1, .name = "Anna"},
                                  {.x = 0.4, .y = 0.6, .w = 0.1, .h = 0.1, .face = 1, .name = "Bob"}};
    int changed = -1;
    int rc = meta_regions_write_sidecar(path, 800, 600, ours, 2, &changed);
    TEST_COND("write into an existing sidecar", rc == FH_OK && changed == 1);
    struct meta_regions r;
    rc = meta_regions_read_sidecar(path, &r);
    TEST_COND("read back: Stranger and Rex kept, 'Anna L.' (same face) replaced by Anna, Bob added",
              rc == FH_OK && r.n == 4 && find(&r, "Stranger") == 1 && find(&r, "Rex") == 1 && find(&r, "Anna") == 1 &&
                  find(&r, "Bob") == 1 && find(&r, "Anna L.") == 0);
    int marked = 0;
    for (int i = 0; i < r.n; i++) marked += r.v[i].ours;
    TEST_COND("ours are marked, the others not; dims are ours", marked == 2 && r.dim_w == 800 && r.dim_h == 600);
    meta_regions_free(&r);
    uint8_t *text;
    size_t n;
    fh_read_file(path, 1 << 20, &text, &n);
    TEST_COND("other properties (dc:title) kept", memmem(text, n, "Holiday", 7) != NULL);
    fh_free(text);

    char copy[600];
    snprintf(copy, sizeof copy, "%s.copy", path);
    FILE *in = fopen(path, "rb"), *out = fopen(copy, "wb");
    int ch;
    while ((ch = fgetc(in)) != EOF) fputc(ch, out);
    fclose(in), fclose(out);
    rc = meta_regions_write_sidecar(path, 800, 600, ours, 2, &changed);
    TEST_COND("the same regions again: nothing written, the file byte for byte the same",
              rc == FH_OK && changed == 0 && same_file(path, copy));

    strcpy(ours[0].name, "Anna Maria");
    rc = meta_regions_write_sidecar(path, 800, 600, ours, 1, &changed);
    meta_regions_read_sidecar(path, &r);
    TEST_COND("renamed, one face fewer: ours replaced, foreign still there",
              rc == FH_OK && changed == 1 && r.n == 3 && find(&r, "Anna Maria") == 1 && find(&r, "Bob") == 0 &&
                  find(&r, "Stranger") == 1);
    meta_regions_free(&r);

    rc = meta_regions_write_sidecar(path, 600, 800, ours, 1, &changed);
    TEST_COND("foreign regions for another aspect (turned photo): FH_E_FORMAT, file untouched",
              rc == FH_E_FORMAT && changed == 0 && strstr(fh_errmsg(), "800x600"));

    rc = meta_regions_write_sidecar(path, 800, 600, NULL, 0, &changed);
    meta_regions_read_sidecar(path, &r);
    TEST_COND("no named faces any more: only ours removed", rc == FH_OK && changed == 1 && r.n == 2 && find(&r, "Rex") == 1);
    meta_regions_free(&r);

    snprintf(path, sizeof path, "%s/none.jpg.xmp", dir);
    rc = meta_regions_write_sidecar(path, 800, 600, NULL, 0, &changed);
    TEST_COND("nothing to write and no sidecar: none created", rc == FH_OK && changed == 0 && access(path, F_OK) != 0);
    rc = meta_regions_read_sidecar(path, &r);
    TEST_COND("a missing sidecar reads as FH_E_NOTFOUND", rc == FH_E_NOTFOUND);
    struct meta_region bad = {.x = 0.5, .y = 0.5, .w = 0.1, .h = 0.1, .face = 1, .name = "a\tb"};
    rc = meta_regions_write_sidecar(path, 800, 600, &bad, 1, &changed);
    TEST_COND("a name with a control character is not written (FH_E_ARG)", rc == FH_E_ARG && access(path, F_OK) != 0);

    snprintf(path, sizeof path, "%s/broken.jpg.xmp", dir);
    write_text(path, "<x:xmpmeta><rdf:RDF><unclosed>");
    rc = meta_regions_write_sidecar(path, 800, 600, ours, 1, &changed);
    TEST_COND("a broken sidecar is not overwritten (FH_E_FORMAT, message names it)",
              rc == FH_E_FORMAT && changed == 0 && strstr(fh_errmsg(), "broken.jpg.xmp"));
}

static void test_embedded(const char *dir) {
    char src[512], photo[512], bak[600], cmd[2048];
    snprintf(src, sizeof src, "%s/data/lfw/lfw-deepfunneled/Tony_Blair/Tony_Blair_0001.jpg", FH_SHARED);
    snprintf(photo, sizeof photo, "%s/t.jpg", dir);
    snprintf(bak, sizeof bak, "%s.bak", photo);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 644 '%s'", src, photo, photo);
    if (system(cmd)) {
        TEST_COND("LFW test photo copied (needs ../shared/data)", 0);
        return;
    }
    struct meta_regions r;
    int rc = meta_regions_read_embedded(photo, &r);
    TEST_COND("a JPEG without XMP: no regions", rc == FH_OK && r.n == 0);
    struct meta_region ours = {.x = 0.5, .y = 0.45, .w = 0.4, .h = 0.5, .face = 1, .name = "Tony"};
    int changed;
    rc = meta_regions_write_embedded(photo, bak, 250, 250, &ours, 1, &changed);
    TEST_COND("write into the JPEG", rc == FH_OK && changed == 1);
    TEST_COND("the backup is the original, byte for byte", same_file(bak, src));
    rc = meta_regions_read_embedded(photo, &r);
    TEST_COND("read back from the JPEG", rc == FH_OK && r.n == 1 && find(&r, "Tony") == 1 && r.v[0].ours);
    meta_regions_free(&r);
    struct stat st;
    stat(photo, &st);
    TEST_COND("the photo keeps its mode", (st.st_mode & 0777) == 0644);
    rc = meta_regions_write_embedded(photo, bak, 250, 250, &ours, 1, &changed);
    TEST_COND("again: unchanged, not rewritten", rc == FH_OK && changed == 0);
    strcpy(ours.name, "Tony B.");
    rc = meta_regions_write_embedded(photo, bak, 250, 250, &ours, 1, &changed);
    TEST_COND("renamed: rewritten, the backup still the original", rc == FH_OK && changed == 1 && same_file(bak, src));
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c fhtmp", dir);
    FILE *pp = popen(cmd, "r");
    int tmps = -1;
    if (pp && fscanf(pp, "%d", &tmps) != 1) tmps = -1;
    if (pp) pclose(pp);
    TEST_COND("no temporary file left behind", tmps == 0);
    chmod(photo, 0444);
    strcpy(ours.name, "Read Only");
    rc = meta_regions_write_embedded(photo, bak, 250, 250, &ours, 1, &changed);
    TEST_COND("a read-only photo (no w bit, even for root) is not rewritten (FH_E_IO)", rc == FH_E_IO && changed == 0);
    rc = meta_regions_read_embedded("/nonexistent/x.jpg", &r);
    TEST_COND("a missing photo: FH_E_IO", rc == FH_E_IO);
}

int main(void) {
    char dir[] = "/tmp/fh_test_xmp_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_geometry();
    test_parse();
    test_write(dir);
    test_embedded(dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
    if (system(cmd)) printf("# could not remove %s\n", dir);
    return TEST_REPORT();
}
