// SPDX-License-Identifier: MIT
// Every hard limit on outside input, in one place (like sqliteLimit.h). Each says why.
#ifndef FH_LIMITS_H
#define FH_LIMITS_H

// Largest image file read from disk or upload: 256 MB covers a 100-MP JPEG at high
// quality and HEIC/PNG panoramas; larger files are not photos from a camera.
#define FH_MAX_IMAGE_FILE_BYTES (256u * 1024u * 1024u)
// Largest side of a decoded image: phones and DSLRs stay under 16k px; panoramas that
// exceed it are refused rather than risk a huge allocation.
#define FH_MAX_IMAGE_SIDE 20000
// Largest decoded pixel count: 120 MP x 3 bytes = 360 MB of RGB, the most we allow one
// image to take on a 2-core / few-GB home server.
#define FH_MAX_IMAGE_PIXELS (120u * 1000u * 1000u)
// Model files: our largest (MobileFaceNet) is 5.2 MB; allow growth to bigger models.
#define FH_MAX_MODEL_BYTES (512u * 1024u * 1024u)
// Tensors / operators in a model graph: MobileFaceNet has ~400 tensors and 230 ops.
#define FH_MAX_MODEL_TENSORS 100000
#define FH_MAX_MODEL_OPS 100000
// Tensor rank we support.
#define FH_MAX_DIMS 6
// Faces kept per image after detection (a crowd photo has a few hundred at most).
#define FH_MAX_FACES 4096
// MTCNN candidates entering R-Net / O-Net: bounds memory of the batched crops.
#define FH_MAX_CANDIDATES 200000
// XMP (meta/xmp.h): a sidecar or packet read whole. Sidecars are a few KB; Lightroom's with a
// long develop history reach ~1 MB. Face regions in one packet: a tagged crowd photo has a few
// hundred; more is a broken or hostile file.
#define FH_MAX_XMP_BYTES (16u * 1024u * 1024u)
#define FH_MAX_XMP_REGIONS 1000

#endif
