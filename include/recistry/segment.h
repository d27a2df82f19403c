/* Segment: semi-automatic lesion measurement over the archive (docs/segmentation.md). A click on an archived
 * image becomes the lesion's 3-D segmentation (src/imaging/ does the image work), its RECIST 1.1 diameters
 * (end points on the image where the long axis lies), its volume, and its contours on every slice it spans.
 * The same code answers `recistry segment` and the workstation's POST /api/segment. */
#ifndef RECISTRY_SEGMENT_H
#define RECISTRY_SEGMENT_H

#include <jansson.h>
#include <stddef.h>

#include "recistry/error.h"
#include "recistry/imaging.h"
#include "recistry/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The algorithm's name and version, as recorded with every semi-automatic measurement and in DICOM SEG. */
#define RCY_SEGMENT_ALGORITHM "recistry seeded region growing"
#define RCY_SEGMENT_ALGORITHM_VERSION "1"

/* One slice of the series the segmentation was computed on. */
typedef struct rcy_segment_slice {
  char sop_instance_uid[65];
  char path[4200];        /* absolute path of the instance file */
  double position_mm[3];  /* Image Position (Patient) */
} rcy_segment_slice;

typedef struct rcy_segmentation {
  char series_uid[65], study_uid[65], subject_id[65], timepoint[65];
  char seed_sop_instance_uid[65];
  double seed_point[2];
  rcy_segment_slice *slices; /* the slab, ordered along z; lesion->mask is columns x rows x n_slices */
  size_t n_slices;
  int rows, columns;
  double spacing_mm[3];      /* column spacing, row spacing, slice spacing */
  double orientation[6];     /* Image Orientation (Patient) of the clicked image (axial when absent) */
  rcy_imaging_lesion *lesion;
  double elapsed_ms;         /* loading and segmenting */
  double load_ms;            /* of which decoding the slices */
} rcy_segmentation;

/* For programs that segment (serve, segment, the benchmark), once at start: large buffers come from the heap
 * and stay there between clicks (glibc mallopt). Otherwise each click's crop-sized buffers are mmap'ed and
 * returned to the system, and faulting their pages in again made the same click take 120 or 350 ms by
 * chance. */
void rcy_segment_process_setup(void);

/* Segments the lesion under point [col, row] of the archived instance sop (image coordinates, pixel centres
 * at integers). The slab read is +-40 mm around the click, widened while the lesion reaches its ends.
 * RCY_ENOTFOUND: no such instance, or nothing to segment there (the message says which); RCY_EINVAL: the
 * point is off the image, or the series cannot be stacked (no Pixel Spacing, mixed sizes, not axial). */
int rcy_segment_at(rcy_segmentation **out, rcy_store *store, const char *sop, const double point[2],
                   rcy_error *err);
void rcy_segmentation_free(rcy_segmentation *seg);

/* The result as the CLI and the API give it: {"long_mm", "short_mm", "volume_ml", "long_axis":
 * {"sop_instance_uid", "p1", "p2"}, "short_axis": {...}, "slices", "first_sop_instance_uid", ..., "method",
 * "algorithm", "lesion_hu", "background_hu", ...}; with_contours adds "contours": [{"sop_instance_uid",
 * "points": [[col, row], ...]}]. New reference. */
json_t *rcy_segmentation_json(const rcy_segmentation *seg, int with_contours);

/* Follow-up propagation: proposes, on the study to_study_uid (its largest series), the segmentation of the
 * lesion found at (from_sop, from_point) — usually the midpoint of a baseline target's long axis. The point
 * is taken to patient coordinates, then to the follow-up slice nearest along the slice normal and the pixel
 * there, which seeds rcy_segment_at; when nothing is found there, points 2 and 4 mm around it are tried.
 * Assumes the two studies place the patient alike (same scanner table, breath-hold): no registration
 * (docs/segmentation.md). *shift_mm receives how far from the mapped point the seed had to move. */
int rcy_segment_propagate(rcy_segmentation **out, double *shift_mm, rcy_store *store, const char *from_sop,
                          const double from_point[2], const char *to_study_uid, rcy_error *err);

/* A baseline target proposed again on a follow-up study (POST /api/segment/propagate): lesion is the read
 * document's lesion; its measurement at baseline_tp (sop_instance_uid, p1, p2) gives the point, the long
 * axis' midpoint, handed to rcy_segment_propagate. *from_out (new reference): {"timepoint", "sop_instance_uid",
 * "point", "seed_shift_mm"}. RCY_EINVAL: not a target, or no measurement at baseline (the message says which);
 * RCY_ENOTFOUND: nothing found on the follow-up (the message says why). */
int rcy_segment_propagate_lesion(rcy_segmentation **out, json_t **from_out, rcy_store *store, const json_t *lesion,
                                 const char *baseline_tp, const char *to_study_uid, rcy_error *err);

/* The segmentation as a DICOM SEG (src/dicom/seg.cc) over the slices it spans, referencing the source
 * series: label e.g. "T1 liver", organ as the read names it (NULL: none), creator the reader's name, edited
 * when the reader changed the proposal. uid_out receives the SEG's SOP Instance UID. */
typedef struct rcy_segment_seg_info {
  const char *label, *organ, *creator;
  int edited;
} rcy_segment_seg_info;
int rcy_segmentation_write_seg(const rcy_segmentation *seg, const char *path, const rcy_segment_seg_info *info,
                               char uid_out[65], rcy_error *err);

/* A stored SEG back as the workstation shows it: {"sop_instance_uid", "segment_label", "contours":
 * [{"sop_instance_uid", "points"}], "voxels"}; *out is a new reference. The frames must lie on the images of
 * one archived series (their geometry comes from the index). */
int rcy_segment_seg_contours(json_t **out, rcy_store *store, const char *path, rcy_error *err);

/* The mask as a NRRD label volume (1 = lesion) over the slab's slices, in patient coordinates. */
int rcy_segmentation_write_nrrd(const rcy_segmentation *seg, const char *path, rcy_error *err);

/* How far (image pixels) an accepted caliper end may lie from the proposal's and still be the proposal. */
#define RCY_SEGMENT_EDIT_TOLERANCE_PX 0.05

/* The method of a stored measurement and what it keeps of its segmentation (the domain rule, not HTTP), in two
 * steps so that the slow one runs outside the transaction that stores the measurement.
 *
 * rcy_segment_seed_rerun: for claimed_method "semiautomatic" or "semiautomatic_edited", checks the client's
 * segmentation ({"seed": {"sop_instance_uid", "point": [col, row]}, ...}; anything else in it, the volume
 * included, is ignored), that the seed is an instance of subject at timepoint tp, and segments it again
 * (deterministic: the proposal the reader saw) into *out. NULL or "manual": *out NULL, nothing done.
 * RCY_EINVAL: an unknown method or a malformed segmentation (the message names the field); RCY_ENOTFOUND: the
 * seed is not among the subject's images at tp, or nothing is found at it (off the image included).
 *
 * rcy_segment_measurement_info: *method_out (24 bytes) "manual" for NULL/"manual" (*out NULL); otherwise the
 * method is decided from the calipers the reader accepted (sop, p1, p2 and, when given, s1, s2):
 * "semiautomatic" when each end lies within RCY_SEGMENT_EDIT_TOLERANCE_PX of the proposal's on the proposal's
 * image, "semiautomatic_edited" otherwise, whatever was claimed. pre is a rcy_segment_seed_rerun result for
 * the same body (used when it is of the same seed) or NULL (the seed is re-run here, same errors). *out (new
 * reference): {"seed", "volume_ml", "long_mm", "short_mm" (proposed), "algorithm", "slices",
 * "first_sop_instance_uid", "last_sop_instance_uid", "series_instance_uid"}. */
int rcy_segment_seed_rerun(rcy_segmentation **out, rcy_store *store, const char *subject, const char *tp,
                           const json_t *client_segmentation, const char *claimed_method, rcy_error *err);
int rcy_segment_measurement_info(json_t **out, char *method_out, rcy_store *store, const char *subject,
                                 const char *tp, const json_t *client_segmentation, const rcy_segmentation *pre,
                                 const char *sop, const double p1[2], const double p2[2], const double *s1,
                                 const double *s2, const char *claimed_method, rcy_error *err);

/* The DICOM SEG stored with an accepted semi-automatic measurement (src/segment/seg_store.c):
 * DIR/<SOP Instance UID>.dcm (DIR is ARCHIVE/segmentations, outside ARCHIVE/storage), written under a temporary
 * name, flushed and renamed. kept is rcy_segment_measurement_info's result (its "seed" says which segmentation);
 * pre, when of that seed, is written, otherwise the seed is segmented again (same errors as
 * rcy_segment_seed_rerun). uid_out receives the SEG's SOP Instance UID. */
int rcy_segment_store_seg(char uid_out[65], rcy_store *store, const char *dir, const rcy_segmentation *pre,
                          const json_t *kept, const char *subject, const char *tp, const rcy_segment_seg_info *info,
                          rcy_error *err);
/* The path of the stored SEG uid under dir; RCY_EINVAL when uid is not a UID (digits and dots, at most 64). */
int rcy_segment_seg_path(char *out, size_t cap, const char *dir, const char *uid);
/* Removes a stored SEG (its read did not commit). */
void rcy_segment_seg_remove(const char *dir, const char *uid);

#ifdef __cplusplus
}
#endif
#endif
