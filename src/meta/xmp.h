// SPDX-License-Identifier: MIT
// meta: the face regions other photo programs read and write, in XMP: the Metadata Working
// Group's "mwg-rs:Regions" (MWG 2.0; digiKam, Lightroom, PhotoPrism, ExifTool), in an XMP
// sidecar or inside the photo, through Exempi (the Adobe XMP Toolkit; libexempi stays inside
// this module). A region is a name and a rectangle normalised to the image AS STORED (before
// its EXIF orientation: what MWG 2.0 and Lightroom use); meta_area_from_box/_to_box convert to
// and from facehatch's upright pixel boxes. Knows nothing of persons, faces or the library.
// Prints nothing itself, but Exempi writes the text of some exceptions (e.g. "XML parsing
// failure") to stderr before it returns the error we turn into FH_E_*.
//
//   struct meta_regions r;
//   if (!meta_regions_read_sidecar("a.jpg.xmp", &r))
//       for (int i = 0; i < r.n; i++) use(r.v[i].name, r.v[i].x, r.v[i].y, r.v[i].w, r.v[i].h);
//   meta_regions_free(&r);
//   struct meta_region mine = {.x = 0.5, .y = 0.4, .w = 0.2, .h = 0.3, .face = 1, .name = "Anna"};
//   int changed;
//   meta_regions_write_sidecar("a.jpg.xmp", 4000, 3000, &mine, 1, &changed);
//
// Which regions are "ours": each region facehatch writes carries mwg-rs:Extensions with
// facehatch:Source = "facehatch" (namespace META_NS_FACEHATCH). Writing replaces our regions of
// the packet by the new list, also drops other Face regions lying where one of ours lies (IoU
// >= META_SAME_IOU: the same face, named again by facehatch), and keeps every other region
// and property as it was. Writing the same list twice leaves the file as it is (*changed 0).
//
// Limits: packets over FH_MAX_XMP_BYTES and region lists over FH_MAX_XMP_REGIONS are
// FH_E_LIMIT; a region whose area is missing, not normalised, not finite or outside the image,
// or whose name is longer than META_NAME_MAX bytes or holds control characters, is skipped
// (counted in meta_regions.skipped), never trusted.
//
// Thread safety: one thread at a time (Exempi keeps its last error in a global).
#ifndef FH_META_XMP_H
#define FH_META_XMP_H

#include <stddef.h>

#include "base/limits.h"

#define META_NAME_MAX 256         // bytes of a region's name (a person name: STORE_NAME_MAX)
#define META_SAME_IOU 0.5         // a foreign Face region this close to one of ours is replaced
#define META_NS_FACEHATCH "http://ns.facehatch.org/xmp/1.0/"

struct meta_region {
    double x, y, w, h;            // centre x, y and width, height: fractions (0..1) of the
                                  // image as stored (stArea, unit "normalized")
    char name[META_NAME_MAX + 1]; // mwg-rs:Name, "" when unnamed
    int face;                     // mwg-rs:Type is "Face" (or absent: MWG makes it optional)
    int ours;                     // written by facehatch (the mark above); ignored on write
};

struct meta_regions {
    int dim_w, dim_h;             // mwg-rs:AppliedToDimensions in pixels; 0, 0 when absent or
                                  // not in pixels
    int n;                        // usable regions in v, in the packet's order
    struct meta_region *v;        // fh_malloc'd (NULL when n is 0)
    int skipped;                  // regions left out: no or bad area, bad name (see Limits)
};
void meta_regions_free(struct meta_regions *r);   // accepts a zeroed struct

// ---- reading -----------------------------------------------------------------------------------
// From an XMP packet (text, n bytes, with or without the <?xpacket?> wrapper). A packet without
// regions gives n = 0. FH_E_FORMAT for text that is not XMP; FH_E_LIMIT (above); FH_E_NOMEM.
int meta_regions_parse(const char *packet, size_t n, struct meta_regions *out);
// From a sidecar file (the whole file is the packet). FH_E_NOTFOUND when it does not exist,
// FH_E_IO when it cannot be read; else as meta_regions_parse. Messages name the file.
int meta_regions_read_sidecar(const char *xmp_path, struct meta_regions *out);
// From the XMP inside a photo (JPEG, PNG, TIFF, WebP, ...: what Exempi's handlers know; other
// files are scanned for an XMP packet). A photo without XMP gives n = 0. FH_E_IO when the file
// cannot be opened; else as meta_regions_parse.
int meta_regions_read_embedded(const char *photo_path, struct meta_regions *out);
// The sidecar of a photo: photo.jpg -> "photo.jpg.xmp" (digiKam, darktable: what facehatch
// writes) when with_ext, else "photo.xmp" (Lightroom, Capture One). FH_E_LIMIT when it does not
// fit in n bytes.
int meta_sidecar_path(const char *photo_path, int with_ext, char *out, size_t n);

// 1 when name can be a region's name: at most META_NAME_MAX bytes of UTF-8 without control
// characters ("" is fine: an unnamed region). Regions read with another name are skipped;
// writing one is FH_E_ARG.
int meta_name_ok(const char *name);

// ---- writing -----------------------------------------------------------------------------------
// Puts `ours` (n regions, 0..FH_MAX_XMP_REGIONS; their name, area and face flag; areas are
// clamped into the image) into the sidecar at xmp_path as described above, with
// AppliedToDimensions dim_w x dim_h (the stored image's pixels, both >= 1). An existing sidecar
// is parsed first and everything in it kept; one whose regions apply to another aspect ratio
// (the photo was cropped or turned since) is FH_E_FORMAT and left alone. The new file replaces
// the old atomically (a temporary file in the same folder, fsync, rename). Nothing is written
// when nothing changes, or when n is 0 and there is no sidecar (*changed = 0; else 1).
int meta_regions_write_sidecar(const char *xmp_path, int dim_w, int dim_h, const struct meta_region *ours, int n,
                               int *changed);
// The same inside the photo itself. The photo is rewritten only when its regions change, and
// then atomically: the photo is copied to a temporary file in its folder, the XMP is put into
// the copy (Exempi's handler for the format: only the XMP segment changes, never the pixels),
// the copy is fsync'd and renamed over the photo (mode kept). Before that, when backup_path is
// not NULL and no file is there yet, the original is kept there (a hard link, or a copy where
// links are not possible); an existing backup is never overwritten, so it keeps the photo as
// it was before facehatch first wrote into it. FH_E_UNSUPPORTED for a format Exempi cannot
// write XMP into (nothing changes then); FH_E_IO for file errors.
int meta_regions_write_embedded(const char *photo_path, const char *backup_path, int dim_w, int dim_h,
                                const struct meta_region *ours, int n, int *changed);

// ---- geometry ----------------------------------------------------------------------------------
// facehatch's boxes are in upright pixels (EXIF orientation applied, inclusive x1, y1, x2, y2);
// MWG areas are fractions of the image as stored. orientation: EXIF 1..8 (others count as 1);
// up_w, up_h: the upright size. Stored size: (up_h, up_w) for orientations 5..8, else
// (up_w, up_h).
void meta_area_from_box(int orientation, int up_w, int up_h, const int box[4], struct meta_region *r);
// The inverse, in continuous upright pixel coordinates: the box covers [x1, x2) x [y1, y2).
void meta_area_to_box(int orientation, int up_w, int up_h, const struct meta_region *r, double box[4]);

#endif
