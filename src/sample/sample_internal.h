/* Internal model of the phantom generator, shared by its files:
 *   prng.c     seeded random numbers and calendar dates (no clock, no libc rand)
 *   anatomy.c  the body as ellipses/ellipsoids in patient coordinates; slice rasterisation to tissue labels
 *   cohort.c   subjects, scenarios, lesions and their sizes per assessment, dates
 *   series.c   CT/MR instances through rcy_dicom (modules of the CT/MR Image IODs, Clinical Trial modules)
 *   truth.c    truth JSON and the central/site reads (engine input)
 *   dirty.c    the defective studies for the ingest daemon's checks
 *   tare.c, tare_dicom.c  the TARE dosimetry phantoms (CT, 90Y PET, 99mTc-MAA SPECT, VOIs, analytic doses)
 * Coordinates are DICOM patient coordinates (LPS): x to the patient's left, y posterior, z superior, mm. */
#ifndef RECISTRY_SAMPLE_INTERNAL_H
#define RECISTRY_SAMPLE_INTERNAL_H

#include "recistry/dicom.h"
#include "recistry/sample.h"

#include <stdint.h>
#include <stdio.h>

/* ---- prng.c ---- */
typedef struct {
  uint64_t state;
} prng;
/* A generator whose stream depends only on (seed, key): order of generation never changes the output. */
void prng_init(prng *r, uint64_t seed, const char *key);
static inline uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static inline uint64_t prng_next(prng *r) { return splitmix(&r->state); }
double prng_uniform(prng *r, double lo, double hi);
int prng_int(prng *r, int lo, int hi_inclusive);
/* Approximately standard normal (Irwin-Hall of 4 uniforms from one draw): cheap enough for every pixel.
 * Sum of 4 U(0,65535): mean 131070, variance 4 * 65536^2 / 12. */
static inline double prng_gauss(prng *r) {
  uint64_t v = prng_next(r);
  double sum = (double)(v & 0xffff) + (double)((v >> 16) & 0xffff) + (double)((v >> 32) & 0xffff) +
               (double)(v >> 48);
  return (sum - 131070.0) / (65536.0 * 0.5773502691896258);
}
/* Days since 1970-01-01 <-> "YYYY-MM-DD" / "YYYYMMDD" (proleptic Gregorian). */
int64_t days_from_civil(int y, int m, int d);
void format_iso_date(char out[11], int64_t days);
void format_dicom_date(char out[9], int64_t days);
/* One decimal, as every measurement is stored. */
double round1(double v);

/* ---- anatomy.c ---- */
enum {
  TISSUE_AIR = 0,
  TISSUE_FAT,       /* subcutaneous */
  TISSUE_MUSCLE,
  TISSUE_VFAT,      /* visceral fat: lymph nodes sit in it */
  TISSUE_LIVER,
  TISSUE_SPLEEN,
  TISSUE_KIDNEY,
  TISSUE_LUNG,
  TISSUE_AORTA,
  TISSUE_IVC,
  TISSUE_CORTEX,    /* cortical bone */
  TISSUE_MARROW,    /* cancellous bone */
  TISSUE_CSF,
  TISSUE_COUNT,
  LABEL_LESION0 = 32 /* lesion i is label LABEL_LESION0 + i */
};

typedef struct {
  double c[3];  /* centre, mm */
  double r[3];  /* semi-axes, mm; r[2] <= 0 makes an infinite cylinder along z */
  double theta; /* in-plane rotation of r[0] from +x, radians */
  uint8_t label;
  int clip;     /* 1: only inside the body cavity (anatomy shape CAVITY) */
} shape;

#define ANATOMY_MAX 40
#define ANATOMY_CAVITY 2 /* index of the body cavity shape */
typedef struct {
  shape s[ANATOMY_MAX];
  int n;
} anatomy;

typedef struct {
  int rows, columns;
  double dx_mm; /* pixel spacing (rows and columns) */
  double x0_mm, y0_mm; /* centre of pixel (0,0) */
} plane_grid;

/* A subject's anatomy: body size scaled by scale (in-plane). */
void anatomy_build(anatomy *a, double scale);
/* Tissue label at a point (the last painted shape containing it). */
uint8_t anatomy_label_at(const anatomy *a, const double p[3]);
/* Paints labels of one axial slice at height z: the anatomy, then `extra` shapes (lesions) on top. */
void anatomy_paint_slice(uint8_t *labels, const plane_grid *g, double z_mm, const anatomy *a, const shape *extra,
                         int n_extra);

/* ---- cohort.c ---- */
#define MAX_TP 5
#define MAX_LESIONS 8

typedef enum { ROLE_TARGET, ROLE_NON_TARGET, ROLE_NEW } lesion_role;
typedef enum {
  SC_PARTIAL_RESPONSE,
  SC_NEW_LESION,
  SC_NODE_CR,
  SC_GROWTH,
  SC_STABLE,
  SC_EQUIVOCAL_NEW,
  SC_LIVER_ONLY,
  SC_COUNT
} scenario;

typedef struct {
  char id[8]; /* T1.., NT1.., N1.. */
  lesion_role role;
  const char *organ; /* engine organ name */
  int nodal;
  uint8_t host;      /* tissue it lies in */
  double c[3];       /* centre, mm; c[2] is a slice position */
  int slice;         /* index (grid order, inferior to superior) of the slice through the centre */
  double theta;      /* in-plane angle of the long axis */
  double long_mm[MAX_TP], short_mm[MAX_TP]; /* 0 = not there (disappeared or not yet appeared) */
  double cc_ratio;   /* craniocaudal semi-axis / in-plane short semi-axis */
  double hu, mr;     /* CT number and T1 signal */
  int new_state[MAX_TP]; /* new lesions: 0 not seen, 1 equivocal, 2 unequivocal */
} lesion;

typedef struct {
  int index;
  char site[8];        /* "S014" */
  char subject_id[24]; /* "CIREL-014-0001" */
  scenario sc;
  int mr;              /* imaged by MR instead of CT */
  char sex[2];
  anatomy body;
  double fov_mm;
  int slices;
  double thickness_mm; /* = spacing between slices */
  double z_centre_mm;  /* height of the middle of the slice stack (0 for the cohort; the lesion phantoms move it) */
  double kvp;
  int n_tp;
  char tp[MAX_TP][8];  /* "BL", "FU1", ... */
  int64_t tp_day[MAX_TP];
  int64_t treatment_day;
  lesion les[MAX_LESIONS];
  int n_les;
} subject;

/* Builds subject `index` of the cohort. */
int cohort_subject(subject *s, const rcy_sample_options *o, int index, rcy_error *err);
/* The in-plane grid of the subject's series (512 for CT, 256 for MR). */
void subject_grid(plane_grid *g, const subject *s);
/* Height of slice k (k = 0 is the most inferior). */
double subject_slice_z(const subject *s, int k);
/* The lesions present at timepoint tp as shapes (labels LABEL_LESION0 + lesion index). */
int subject_lesion_shapes(shape *out, const subject *s, int tp);
const char *scenario_name(scenario sc);

/* ---- series.c ---- */
typedef struct {
  char study[RCY_DICOM_UID_SIZE];
  char series[RCY_DICOM_UID_SIZE];
  char frame[RCY_DICOM_UID_SIZE];
} series_uids;

/* Deterministic UID from the seed and a key path. */
void sample_uid(char uid[RCY_DICOM_UID_SIZE], uint64_t seed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void series_uids_for(series_uids *u, uint64_t seed, const subject *s, int tp);
/* SOP Instance UID of the image at instance number `instance` (1 = most superior slice). */
void instance_uid_for(char uid[RCY_DICOM_UID_SIZE], uint64_t seed, const subject *s, int tp, int instance);
/* Instance number of slice k. */
int slice_instance_number(const subject *s, int k);
/* The file name of slice k inside the timepoint folder ("CT_0007.dcm"). */
void slice_file_name(char out[32], const subject *s, int k);

/* Everything about one series to be written; the dirty cases change fields before writing. */
typedef struct {
  const subject *s;
  int tp;
  series_uids uids;
  uint64_t seed;
  double noise_hu;
  const char *out_dir; /* the folder of the series files */
} series_job;

/* A dataset holding every attribute shared by the series' images (patient, trial, study, series, equipment,
 * frame of reference, image pixel description). Caller frees. */
int series_template(rcy_dicom_dataset **out, const series_job *job, rcy_error *err);
/* Renders slice k into pixels (int16 stored values for CT, uint16 for MR; rows*columns). */
void series_render_slice(void *pixels, const series_job *job, int k, uint8_t *labels_scratch);
/* Fills the per-image attributes of slice k on a clone of the template and its pixels. */
int series_image(rcy_dicom_dataset *img, const series_job *job, int k, const void *pixels, rcy_error *err);
/* Writes every slice of the series; adds to stats. */
int series_write(const series_job *job, rcy_sample_stats *stats, rcy_error *err);
/* Writes slice k from a clone of tmpl as job->out_dir/name (NULL: its standard name). The dirty cases use
 * `edit` (changes the stored pixels) and `orientation` (replaces Image Orientation); both may be NULL. */
int series_write_slice(const series_job *job, const rcy_dicom_dataset *tmpl, int k, const char *name,
                       void (*edit)(void *pixels, int columns), const char *orientation, rcy_sample_stats *stats,
                       rcy_error *err);
/* Writes the slices of the series from a given template, leaving out slice `skip` (-1: none). */
int series_write_with(const series_job *job, const rcy_dicom_dataset *tmpl, int skip, rcy_sample_stats *stats,
                      rcy_error *err);
int write_dataset(rcy_dicom_dataset *ds, const char *path, rcy_sample_stats *stats, rcy_error *err);

/* Small dataset helpers shared by the series writers (series.c, tare_dicom.c). */
typedef struct {
  uint32_t tag;
  const char *value; /* NULL: not set */
} attr;
int set_all(rcy_dicom_dataset *ds, const attr *a, size_t n, rcy_error *err);
/* Appends a code item (Code Value, Coding Scheme Designator, Code Meaning) to sequence seq. */
int add_code(rcy_dicom_dataset *ds, uint32_t seq, const char *value, const char *scheme, const char *meaning,
             rcy_error *err);
/* A DS value with at most 6 decimals and no trailing zeros ("0.75"). */
void fmt_ds(char *out, size_t n, double v);
/* Patient, Clinical Trial Subject/Study/Series attributes and the de-identification record. */
int trial_attrs_set(rcy_dicom_dataset *ds, const char *subject_id, const char *site, const char *sex,
                    const char *timepoint, const char *timepoint_desc, rcy_error *err);

/* ---- truth.c ---- */
/* Writes DIR/truth/<subject>.json and returns (new references) the perfect and site engine inputs. */
int truth_write(void **central_json, void **site_json, const rcy_sample_options *o, const subject *s,
                int site_variant, rcy_error *err);
int reads_write(const char *out_dir, void *central_array, void *site_array, rcy_error *err);
/* DIR/registry.csv (the cohort's registry data): the header, then one row per subject. */
void registry_header(FILE *f);
void registry_row(FILE *f, const rcy_sample_options *o, const subject *s);

/* CT number of a tissue (series.c's table). */
double tissue_ct_hu(int tissue);

/* ---- lesion_phantom.c ---- */
/* The lesion phantoms for segmentation tests (docs/sample.md "Lesion phantoms"): DICOM series and
 * DIR/lesions/<subject>.json, DIR/lesions/<subject>/<timepoint>.nrrd. */
int lesion_phantoms_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err);

/* ---- tare.c ---- */
/* The TARE dosimetry phantoms (docs/sample.md "TARE phantoms"): per subject an MAA study (CT + 99mTc-MAA
 * SPECT) and a Y90 study (CT + 90Y PET), label maps DIR/tare/<subject>/<study>/<voi>.nrrd and the truth
 * DIR/tare/<subject>.json with the analytic doses. */
int tare_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err);

/* ---- dirty.c ---- */
int dirty_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err);

/* ---- sample.c ---- */
int make_dirs(const char *path, rcy_error *err); /* mkdir -p */

/* ---- tare_cohort.c ---- */
/* The TARE cohort tables for `recistry dose-response` (o->tare_cohort subjects). */
int tare_cohort_write(const rcy_sample_options *o, rcy_sample_stats *stats, rcy_error *err);

#endif
