/* `recistry segment`: one click -> the lesion's semi-automatic measurement (docs/segmentation.md). The same
 * code as the workstation's POST /api/segment (src/segment/). */
#include "commands.h"
#include "archive_args.h"
#include "options.h"

#include "recistry/segment.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: recistry segment --archive DIR|--config FILE --instance SOP_UID --point COL,ROW [--json]\n"
    "                        [--contours]\n"
    "                        [--mask-out FILE.nrrd] [--seg-out FILE.dcm [--label TEXT] [--organ NAME]]\n"
    "                        [--to-study STUDY_UID]\n"
    "       recistry segment --measure FILE --label N [--json]\n"
    "Segments the lesion under the point (image coordinates: column, row; pixel centres at integers) of an\n"
    "archived image in 3-D and prints its RECIST 1.1 longest diameter and perpendicular short axis (mm, with\n"
    "their end points on the image where the long axis lies), its volume (mL) and the slices it spans.\n"
    "  --json          the result as JSON (docs/segmentation.md)\n"
    "  --contours      with --json: the contour on every slice\n"
    "  --mask-out F    also write the mask as a NRRD label volume (patient coordinates)\n"
    "  --seg-out F     also write the mask as a DICOM SEG referencing the source images (docs/conformance.md)\n"
    "  --label TEXT    the SEG's segment label (default \"lesion\"); --organ NAME its anatomic region\n"
    "  --measure F     measure label N of a label volume (NRRD, NIfTI; e.g. from 3D Slicer) by the same\n"
    "                  definitions: longest axial diameter, perpendicular short axis, volume\n"
    "  --to-study UID  follow-up propagation: segment the same lesion on that study, found at the point's\n"
    "                  patient position (e.g. the midpoint of a baseline target's long axis)\n";

/* --measure: a label volume measured as a segmentation is (axial slices; spacing from the file). */
static int measure_file(const char *path, const char *label_text, int json) {
  char *end;
  long label = strtol(label_text ? label_text : "", &end, 10);
  if (!label_text || end == label_text || *end || label < 1 || label > 255) {
    fprintf(stderr, "recistry segment: --measure needs --label N (1..255)\n");
    return RCY_EXIT_USAGE;
  }
  rcy_error err = {0};
  uint8_t *m;
  int size[3];
  double origin[3], spacing[3], dir[9];
  if (rcy_imaging_mask_read(&m, size, origin, spacing, dir, path, &err)) {
    fprintf(stderr, "recistry segment: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  size_t n = (size_t)size[0] * size[1] * size[2];
  for (size_t i = 0; i < n; i++) m[i] = m[i] == label;
  rcy_imaging_slab slab = {size[0], size[1], size[2], {spacing[0], spacing[1], spacing[2]}, NULL, 0};
  rcy_imaging_lesion *l;
  int rc = rcy_imaging_measure_mask(&l, &slab, m, NULL, &err);
  free(m);
  if (rc) {
    fprintf(stderr, "recistry segment: %s: label %ld: %s\n", path, label, err.message);
    return RCY_EXIT_FAIL;
  }
  if (json)
    printf("{\"long_mm\": %.2f, \"short_mm\": %.2f, \"volume_ml\": %.3f, \"long_slice\": %d, \"long_axis\": "
           "{\"p1\": [%.3f, %.3f], \"p2\": [%.3f, %.3f]}, \"voxels\": %zu}\n",
           l->long_mm, l->short_mm, l->volume_ml, l->long_slice, l->long_p1[0], l->long_p1[1], l->long_p2[0],
           l->long_p2[1], l->voxels);
  else
    printf("longest diameter %.1f mm (slice %d), short axis %.1f mm, volume %.2f mL (%zu voxels)\n", l->long_mm,
           l->long_slice, l->short_mm, l->volume_ml, l->voxels);
  rcy_imaging_lesion_free(l);
  return RCY_EXIT_OK;
}

static int parse_point(double p[2], const char *s) {
  char *end;
  p[0] = strtod(s, &end);
  if (end == s || *end != ',') return -1;
  const char *t = end + 1;
  p[1] = strtod(t, &end);
  if (end == t || *end || !isfinite(p[0]) || !isfinite(p[1])) return -1;
  return 0;
}

int rcy_cmd_segment(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--measure") == 0) {
      const char *file = i + 1 < argc ? argv[i + 1] : NULL, *label = NULL;
      int json = 0;
      for (int j = 1; j < argc; j++) {
        if (strcmp(argv[j], "--label") == 0 && j + 1 < argc) label = argv[j + 1];
        if (strcmp(argv[j], "--json") == 0) json = 1;
      }
      if (!file) {
        fprintf(stderr, "recistry segment: --measure needs a FILE\n%s", usage);
        return RCY_EXIT_USAGE;
      }
      return measure_file(file, label, json);
    }
  rcy_cli_archive a = {0};
  const char *sop = NULL, *point_text = NULL, *mask_out = NULL, *to_study = NULL,
             *seg_out = NULL, *label = "lesion", *organ = NULL;
  int json = 0, contours = 0;
  const rcy_cli_option options[] = {RCY_CLI_ARCHIVE_OPTIONS(&a),
                                    {"--instance", "SOP_UID", 1, &sop, NULL},
                                    {"--point", "COL,ROW", 1, &point_text, NULL},
                                    {"--json", NULL, 0, NULL, &json},
                                    {"--contours", NULL, 0, NULL, &contours},
                                    {"--mask-out", "FILE", 0, &mask_out, NULL},
                                    {"--to-study", "STUDY_UID", 0, &to_study, NULL},
                                    {"--seg-out", "FILE", 0, &seg_out, NULL},
                                    {"--label", "TEXT", 0, &label, NULL},
                                    {"--organ", "NAME", 0, &organ, NULL}};
  int parsed = rcy_cli_parse("segment", usage, options, sizeof options / sizeof options[0], argc, argv);
  if (parsed >= 0) return parsed;
  double point[2];
  if (parse_point(point, point_text)) {
    fprintf(stderr, "recistry segment: --point must be COL,ROW (two numbers), not \"%s\"\n%s", point_text, usage);
    return RCY_EXIT_USAGE;
  }
  rcy_segment_process_setup();
  rcy_error err = {0};
  rcy_store *db;
  if ((parsed = rcy_cli_archive_open(&db, &a, "segment", usage)) >= 0) return parsed;
  rcy_segmentation *seg;
  double shift_mm = 0;
  int rc = to_study ? rcy_segment_propagate(&seg, &shift_mm, db, sop, point, to_study, &err)
                    : rcy_segment_at(&seg, db, sop, point, &err);
  rcy_store_close(db);
  if (rc) {
    fprintf(stderr, "recistry segment: %s\n", err.message);
    return RCY_EXIT_FAIL;
  }
  if (mask_out && rcy_segmentation_write_nrrd(seg, mask_out, &err)) {
    fprintf(stderr, "recistry segment: %s\n", err.message);
    rcy_segmentation_free(seg);
    return RCY_EXIT_FAIL;
  }
  char actor[96], seg_uid[65] = "";
  rcy_cli_actor(actor, sizeof actor);
  rcy_segment_seg_info info = {label, organ, actor, 0};
  if (seg_out && rcy_segmentation_write_seg(seg, seg_out, &info, seg_uid, &err)) {
    fprintf(stderr, "recistry segment: %s\n", err.message);
    rcy_segmentation_free(seg);
    return RCY_EXIT_FAIL;
  }
  if (json) {
    json_t *o = rcy_segmentation_json(seg, contours);
    if (to_study)
      json_object_set_new(o, "propagated_from", json_pack("{s:s,s:[f,f],s:f}", "sop_instance_uid", sop, "point",
                                                          point[0], point[1], "seed_shift_mm", shift_mm));
    if (seg_out) json_object_set_new(o, "seg_sop_instance_uid", json_string(seg_uid));
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    printf("\n");
    json_decref(o);
  } else {
    const rcy_imaging_lesion *l = seg->lesion;
    printf("longest diameter  %.1f mm  (%s: [%.1f, %.1f] - [%.1f, %.1f])\n", l->long_mm,
           seg->slices[l->long_slice].sop_instance_uid, l->long_p1[0], l->long_p1[1], l->long_p2[0], l->long_p2[1]);
    printf("short axis        %.1f mm  ([%.1f, %.1f] - [%.1f, %.1f])\n", l->short_mm, l->short_p1[0], l->short_p1[1],
           l->short_p2[0], l->short_p2[1]);
    printf("volume            %.2f mL  (%zu voxels on %d slices)\n", l->volume_ml, l->voxels,
           l->last_slice - l->first_slice + 1);
    printf("lesion %.0f, surroundings %.0f, boundary at %.0f (smoothing %.1f mm%s); %.0f ms\n", l->lesion_value,
           l->background_value, l->boundary_level, l->smoothing_mm, l->rim ? ", rim taken in" : "", seg->elapsed_ms);
  }
  rcy_segmentation_free(seg);
  return RCY_EXIT_OK;
}
