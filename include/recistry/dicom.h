/* DICOM: the only module that touches DCMTK. A C API over DCMTK for the rest of recistry:
 * building and writing instances (phantom generator), reading attributes, geometry and pixels of
 * stored instances (ingest checks, QC, rendering), the network (C-ECHO, C-STORE SCP, C-FIND/C-GET/C-MOVE SCU), and the
 * derived objects recistry creates: SR measurement reports (TID 1500) and lesion segmentations (SEG).
 * Implemented in C++17 in src/dicom/; every entry point catches all exceptions and returns an RCY_E* code. */
#ifndef RECISTRY_DICOM_H
#define RECISTRY_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "recistry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "DCMTK x.y.z": the toolkit this build links. */
const char *rcy_dicom_toolkit_version(void);

/* A DICOM tag as (group << 16) | element. */
typedef uint32_t rcy_dicom_tag;
#define RCY_DICOM_TAG(group, element) ((rcy_dicom_tag)(((uint32_t)(group) << 16) | (uint32_t)(element)))

/* ---- Section: datasets — build and write instances (src/dicom/write*.cc; used by sample/) ---- */

/* A DICOM dataset under construction. Attributes are named by tag (RCY_DICOM_TAG(group, element)); their VR
 * comes from DCMTK's data dictionary, so only standard (dictionary) attributes can be set. */
typedef struct rcy_dicom_dataset rcy_dicom_dataset;

/* Longest UID (PS3.5 9.1) plus its terminating NUL. */
#define RCY_DICOM_UID_SIZE 65

int rcy_dicom_dataset_new(rcy_dicom_dataset **out, rcy_error *err);
/* A deep copy (a series template cloned per instance). The copy is a root dataset: free it. */
int rcy_dicom_dataset_clone(rcy_dicom_dataset **out, const rcy_dicom_dataset *src, rcy_error *err);
/* Frees a root dataset and every item handle obtained from it. NULL and item handles are ignored. */
void rcy_dicom_dataset_free(rcy_dicom_dataset *ds);

/* Sets (replaces) a string-valued attribute; several values are separated by backslashes ("0.75\\0.75").
 * An empty string makes an empty (type 2) attribute. The value is checked against the VR. */
int rcy_dicom_dataset_set_string(rcy_dicom_dataset *ds, uint32_t tag, const char *value, rcy_error *err);
/* Sets a numeric attribute of any numeric VR (US, SS, UL, SL, FL, FD, DS, IS): DS is written with at most
 * 16 characters, IS and the binary integer VRs must receive an integral value in range. */
int rcy_dicom_dataset_set_number(rcy_dicom_dataset *ds, uint32_t tag, double value, rcy_error *err);
/* Sets an OB/OW/UN attribute to raw bytes (e.g. Encapsulated Document). */
int rcy_dicom_dataset_set_bytes(rcy_dicom_dataset *ds, uint32_t tag, const void *bytes, size_t size,
                                rcy_error *err);
/* Inserts an attribute with no value (a type 2 attribute, or an empty sequence). */
int rcy_dicom_dataset_set_empty(rcy_dicom_dataset *ds, uint32_t tag, rcy_error *err);
int rcy_dicom_dataset_remove(rcy_dicom_dataset *ds, uint32_t tag, rcy_error *err);
/* Appends a new item to sequence `seq_tag` (created when absent). *item is owned by ds: fill it with the
 * set_* functions, never free it; it stays valid until ds is freed. */
int rcy_dicom_dataset_add_item(rcy_dicom_dataset **item, rcy_dicom_dataset *ds, uint32_t seq_tag,
                               rcy_error *err);
/* Pixel Data (OW) of one monochrome frame, with Rows, Columns, Samples per Pixel, Bits Allocated/Stored
 * (16), High Bit (15) and Pixel Representation (1 signed / 0 unsigned). Photometric Interpretation and
 * everything else are the caller's. */
int rcy_dicom_dataset_set_pixels_int16(rcy_dicom_dataset *ds, const int16_t *pixels, uint16_t rows,
                                       uint16_t columns, rcy_error *err);
int rcy_dicom_dataset_set_pixels_uint16(rcy_dicom_dataset *ds, const uint16_t *pixels, uint16_t rows,
                                        uint16_t columns, rcy_error *err);
/* A multi-frame instance (NM tomogram, enhanced objects): `frames` frames of rows x columns unsigned 16-bit
 * values, one after the other (frame-major, then row-major), as one Pixel Data (OW), with Number of Frames
 * (0028,0008) and the attributes set_pixels_uint16 sets. Frame geometry (Detector Information Sequence,
 * Spacing Between Slices, Frame Increment Pointer...) is the caller's. RCY_EINVAL for 0 frames or Pixel Data
 * over 4 GiB. */
int rcy_dicom_dataset_set_pixels_uint16_frames(rcy_dicom_dataset *ds, const uint16_t *pixels, uint16_t rows,
                                               uint16_t columns, uint32_t frames, rcy_error *err);
/* Writes a Part 10 file: preamble, File Meta Information built from SOP Class/Instance UID (which must be
 * set), explicit VR little endian. Written to PATH.tmp and renamed, so PATH is never a partial file.
 * The output depends only on the dataset: same dataset, same bytes. */
int rcy_dicom_dataset_write_file(rcy_dicom_dataset *ds, const char *path, rcy_error *err);

/* A UID derived deterministically from `key`: "2.25." followed by the decimal value of a 128-bit
 * UUID (version 4 layout) hashed from key (PS3.5 B.2). Same key, same UID; different keys collide with
 * negligible probability. Used for reproducible synthetic data, never for real acquisitions. */
void rcy_dicom_uid_from_key(char uid[RCY_DICOM_UID_SIZE], const char *key);


/* ---- Section: reading — attributes and geometry of an instance (src/dicom/read*.cc; used by ingest/, readers/) ---- */

#define RCY_DICOM_UID_MAX 65 /* 64 characters + NUL */
#define RCY_DICOM_LO_MAX 65

/* Private blocks (odd group + Private Creator) reported per instance; more are counted in private_more. */
#define RCY_DICOM_PRIVATE_MAX 16

/* The attributes the archive needs from one stored instance. Values that may carry identity (patient name and
 * ID) are read only so the anonymisation check can compare them; callers never log them. Numeric fields come
 * with a has_ flag: 0 when the attribute is absent or not a number. Pixel data is never loaded. No value is
 * ever cut to fit: a value longer than its field leaves the field empty and names the attribute in overlong. */
typedef struct rcy_dicom_attrs {
  char sop_class_uid[RCY_DICOM_UID_MAX];
  char sop_instance_uid[RCY_DICOM_UID_MAX];
  char transfer_syntax_uid[RCY_DICOM_UID_MAX]; /* from the file meta header */
  char study_uid[RCY_DICOM_UID_MAX];
  char series_uid[RCY_DICOM_UID_MAX];
  char frame_of_reference_uid[RCY_DICOM_UID_MAX];
  char modality[17];
  char study_date[11];                          /* ISO YYYY-MM-DD, "" if absent or malformed */
  char series_description[RCY_DICOM_LO_MAX];
  char site_id[RCY_DICOM_LO_MAX];               /* Clinical Trial Site ID (0012,0030) */
  char subject_id[RCY_DICOM_LO_MAX];            /* Clinical Trial Subject ID (0012,0040) */
  char timepoint[RCY_DICOM_LO_MAX];             /* Clinical Trial Time Point ID (0012,0050) */
  char patient_id[RCY_DICOM_LO_MAX];            /* (0010,0020): identity-bearing, never log */
  char patient_name[RCY_DICOM_LO_MAX];          /* (0010,0010): identity-bearing, never log */
  char study_id[RCY_DICOM_LO_MAX];              /* (0020,0010) SH: may be a hospital number, never log */
  char patient_identity_removed[17];            /* (0012,0062) YES/NO */
  int has_burned_in_annotation;                 /* (0028,0301) present, even empty */
  char burned_in_annotation[RCY_DICOM_LO_MAX];  /* all its values, backslash-separated, padding trimmed */
  char overlong[64];                            /* keyword of the first attribute too long for its field, or "" */
  /* Private data elements with a value, at any depth: their blocks (group, Private Creator; "" when the
   * element has no creator). */
  struct {
    uint16_t group;
    char creator[RCY_DICOM_LO_MAX];
  } private_blocks[RCY_DICOM_PRIVATE_MAX];
  size_t n_private_blocks;
  int private_more;                             /* blocks beyond the list, or a creator too long to report */
  int has_series_number, series_number;
  int has_instance_number, instance_number;
  int has_rows, rows, columns;
  int has_pixel_spacing;
  double pixel_spacing_row_mm, pixel_spacing_col_mm;
  int has_slice_thickness;
  double slice_thickness_mm;
  int has_position;
  double position_mm[3];                        /* Image Position (Patient) */
  int has_orientation;
  double orientation[6];                        /* Image Orientation (Patient) */
  int has_window;
  double window_center, window_width;
} rcy_dicom_attrs;

/* Bits of present[i] (rcy_dicom_read_attrs). */
#define RCY_DICOM_FOUND_TOP 1    /* the top-level data set holds the attribute with a non-empty value */
#define RCY_DICOM_FOUND_NESTED 2 /* an item of a sequence, at any depth, holds it with a non-empty value that is
                                  * neither the top-level value of the same attribute nor the top-level Clinical
                                  * Trial Subject ID */
/* Sequences nested deeper than this are refused as unreadable (RCY_EDICOM): the walk is bounded. The
 * network guard (nesting_guard.cc) refuses deeper data sets before DCMTK parses them, with the same limit. */
#define RCY_DICOM_MAX_DEPTH 64

/* Reads the attributes of the Part 10 file at path. For each of the n_check tags in check, present[i] receives
 * RCY_DICOM_FOUND_* bits (a sequence with items counts as non-empty): this is how the caller checks that
 * identity-bearing attributes are empty, wherever they are, without the values ever leaving this module.
 * RCY_EDICOM when the file is not DICOM, truncated, unparseable or nested deeper than RCY_DICOM_MAX_DEPTH. */
int rcy_dicom_read_attrs(rcy_dicom_attrs *out, int *present, const char *path, const rcy_dicom_tag *check,
                         size_t n_check, rcy_error *err);
/* Keyword of a tag from the data dictionary ("PatientBirthDate"), or "(gggg,eeee)" for an unknown tag. */
void rcy_dicom_tag_name(char *out, size_t out_len, rcy_dicom_tag tag);


/* ---- Section: pixels — decoded frames with rescale, for rendering (src/dicom/pixels*.cc; used by render/, readers/) ---- */

/* One decoded grayscale frame in modality units (Rescale Slope/Intercept applied: HU for CT). */
typedef struct rcy_dicom_frame {
  int rows, columns;
  float *values;                                      /* rows * columns, row-major */
  double pixel_spacing_row_mm, pixel_spacing_col_mm; /* Pixel Spacing [0], [1]; 0 when absent */
  double window_center, window_width;                /* first VOI window; width 0 when absent */
  int monochrome1;                                   /* 1: higher values display darker */
} rcy_dicom_frame;

/* Decodes the first frame of the instance at path (native, JPEG baseline/lossless, JPEG-LS or RLE).
 * RCY_EDICOM naming the file and what is unsupported (colour, > 16 bits, no pixel data). */
int rcy_dicom_frame_load(rcy_dicom_frame **out, const char *path, rcy_error *err);
void rcy_dicom_frame_free(rcy_dicom_frame *frame);



/* ---- Section: network — associations, C-ECHO, C-STORE SCP, C-GET/C-MOVE SCU (src/dicom/net*.cc; used by ingest/) ---- */

/* DIMSE statuses the storage SCP answers (see docs/conformance.md). */
#define RCY_DICOM_STATUS_SUCCESS 0x0000u
#define RCY_DICOM_STATUS_NOT_AUTHORIZED 0x0124u     /* instance of another site / subject pattern mismatch */
#define RCY_DICOM_STATUS_OUT_OF_RESOURCES 0xA700u   /* disk full, storage or index failure */
#define RCY_DICOM_STATUS_DATASET_MISMATCH 0xA900u   /* data set does not match the request / SOP class */
#define RCY_DICOM_STATUS_CANNOT_UNDERSTAND 0xC000u  /* not DICOM, truncated, unparseable */
#define RCY_DICOM_STATUS_NOT_ANONYMISED 0xC001u     /* anonymisation check failed */
#define RCY_DICOM_STATUS_DUPLICATE_CONFLICT 0xC002u /* same SOP Instance UID, different content */

/* Longest Error Comment (0000,0902) a response carries (LO: 64 characters). */
#define RCY_DICOM_COMMENT_MAX 65

/* An association request, as the policy sees it. peer_cert_der is the TLS peer certificate (DER), NULL on
 * plain TCP. */
typedef struct rcy_dicom_assoc_request {
  const char *calling_ae;
  const char *called_ae;
  const char *peer_host; /* numeric address */
  int tls;
  const unsigned char *peer_cert_der;
  size_t peer_cert_len;
} rcy_dicom_assoc_request;

/* One C-STORE data set, received into a temporary file. */
typedef struct rcy_dicom_received {
  const char *temp_path;        /* Part 10 file, meta header included */
  const char *sop_class_uid;    /* from the C-STORE request */
  const char *sop_instance_uid;
  uint64_t size_bytes;
  char sha256_hex[65];          /* of the whole file; "" when the SCP did not hash it (it does not: hashing
                                 * is not on the critical path; the store callback hashes when it needs to) */
  int write_errno;              /* non-zero: writing the file failed (ENOSPC, EIO...): the file is incomplete */
  /* Makes the file's data durable (fdatasync): 0, else its errno. The store callback must get 0 from it
   * before it answers Success. It may be called from another thread (the ingest pipeline runs it on its
   * flushers while it checks the file), once, and must have returned before the store callback does. */
  int (*flush)(const struct rcy_dicom_received *in);
  void *flush_ctx;
  /* Non-NULL: the SCP refused the data set before anything parsed it (sequences nested deeper than
   * RCY_DICOM_MAX_NESTING, or a malformed sequence/item structure); this is the Error Comment. The store
   * callback must not parse the file and must answer 0xC000 (the SCP enforces it). */
  const char *refusal;
} rcy_dicom_received;

/* Deepest sequence nesting the SCP accepts in a received data set or command set (src/dicom/nesting_guard.h). */
#define RCY_DICOM_MAX_NESTING 64

/* ---- query/retrieve as SCP (src/dicom/net_qr.cc; the rules are the user's: src/ingest/qr.c) ---- */

/* The services an association may be granted (rcy_dicom_scp_handlers.services). */
#define RCY_DICOM_SERVICE_STORE 1u
#define RCY_DICOM_SERVICE_FIND 2u
#define RCY_DICOM_SERVICE_MOVE 4u
#define RCY_DICOM_SERVICE_GET 8u

/* Query/retrieve statuses (PS3.4 C.4). */
#define RCY_DICOM_STATUS_QR_OUT_OF_RESOURCES 0xA700u      /* C-FIND refused: out of resources */
#define RCY_DICOM_STATUS_QR_UNKNOWN_DESTINATION 0xA801u   /* C-MOVE: move destination unknown */
#define RCY_DICOM_STATUS_QR_IDENTIFIER_MISMATCH 0xA900u   /* identifier does not match SOP class */
#define RCY_DICOM_STATUS_QR_UNABLE_TO_PROCESS 0xC000u
#define RCY_DICOM_STATUS_QR_NOT_AUTHORISED 0x0124u        /* refused: not authorised (PS3.7 C.5.4) */

/* One key of a query/retrieve identifier: the top-level element's tag and its value as DICOM text
 * (multiple values backslash-separated; "" = universal match / a return key). Sequences are not passed. */
typedef struct rcy_dicom_qr_key {
  uint32_t tag;
  const char *value;
} rcy_dicom_qr_key;

typedef struct rcy_dicom_qr_request {
  unsigned service;       /* RCY_DICOM_SERVICE_FIND, _MOVE or _GET */
  int patient_root;       /* 1: Patient Root information model, 0: Study Root */
  const char *level;      /* Query/Retrieve Level as sent: PATIENT, STUDY, SERIES, IMAGE (may be NULL) */
  const rcy_dicom_qr_key *keys; /* every top-level key but Query/Retrieve Level and Specific Character Set */
  size_t n_keys;
  const char *move_destination; /* C-MOVE only */
} rcy_dicom_qr_request;

/* DICOM TLS to a node we call: our certificate and private key (PEM), and the node's certificate, the only
 * one trusted (a node presenting any other is refused in the handshake). */
typedef struct rcy_dicom_tls_client {
  const char *certificate;
  const char *private_key;
  const char *peer_certificate;
} rcy_dicom_tls_client;

/* One file a C-MOVE / C-GET sends, as stored. */
typedef struct rcy_dicom_qr_file {
  char *path; /* absolute */
  char *sop_class_uid, *sop_instance_uid, *transfer_syntax_uid;
} rcy_dicom_qr_file;

typedef struct rcy_dicom_qr_files {
  rcy_dicom_qr_file *files;
  size_t n;
  /* C-MOVE: the destination, from the configuration (never from the request). */
  char *dest_host;
  int dest_port;
  char *dest_ae_title;
  char *our_ae_title; /* calling AE of the sub-association */
  int dest_tls;       /* 1: the destination is reached over DICOM TLS with dest_tls_client (its strings are the
                         configuration's, which outlives the association) */
  rcy_dicom_tls_client dest_tls_client;
} rcy_dicom_qr_files;

/* What the storage SCP asks of its user (ingest/). All callbacks run on the association's own thread;
 * several associations run concurrently, so they must be thread-safe. */
typedef struct rcy_dicom_scp_handlers {
  void *ctx;
  /* Decide on an association: return 0 to accept (setting *assoc_ctx, handed to the calls below), or reject
   * it with RCY_ENOTFOUND (calling AE title not recognised), RCY_EINVAL (called AE title not ours) or
   * RCY_EDENIED (any other policy reason), giving a reason (no PHI) for the log. */
  int (*associate)(void *ctx, const rcy_dicom_assoc_request *req, void **assoc_ctx, char *reason,
                   size_t reason_len);
  /* Where the next C-STORE data set goes: a fresh temporary file name on the archive's file system. */
  int (*temp_path)(void *assoc_ctx, char *path, size_t path_len);
  /* A C-STORE data set is complete. Returns the DIMSE status to answer, filling comment (no PHI) on
   * failure; Success only once the instance is durable. The callee moves the file away or leaves it: the
   * SCP removes whatever is still at temp_path afterwards, so no partial file survives. */
  unsigned (*store)(void *assoc_ctx, const rcy_dicom_received *in, char *comment, size_t comment_len);
  /* The association ended; aborted is 1 when it did not end by an orderly release. */
  void (*release)(void *assoc_ctx, int aborted);
  /* Query/retrieve (src/dicom/net_qr.cc); NULL when the SCP is storage-only. Which services this
   * association may use (RCY_DICOM_SERVICE_* bits): only their presentation contexts are accepted. NULL:
   * storage only. */
  unsigned (*services)(void *assoc_ctx);
  /* C-FIND: calls emit once per match (keys in the order of the request's, values "" for unknown), returns
   * the final status (0x0000 Success, or a failure with comment). emit returns non-zero to stop (cancel). */
  unsigned (*find)(void *assoc_ctx, const struct rcy_dicom_qr_request *rq,
                   int (*emit)(void *emit_ctx, const struct rcy_dicom_qr_key *keys, size_t n), void *emit_ctx,
                   char *comment, size_t comment_len);
  /* C-MOVE / C-GET: the files to send (and for C-MOVE the destination), or a failure status with comment
   * (0xA801 for a destination that is not a configured peer). On success *out is filled and
   * retrieve_done is called once with the sub-operations' outcome (it frees *out). */
  unsigned (*retrieve)(void *assoc_ctx, const struct rcy_dicom_qr_request *rq, struct rcy_dicom_qr_files *out,
                       char *comment, size_t comment_len);
  void (*retrieve_done)(void *assoc_ctx, const struct rcy_dicom_qr_request *rq, struct rcy_dicom_qr_files *files,
                        int n_completed, int n_failed, int n_warning, unsigned status);
} rcy_dicom_scp_handlers;

typedef struct rcy_dicom_scp_config {
  const char *ae_title;         /* our AE title (the policy checks that associations call it) */
  const char *bind;             /* address to listen on (NULL or "" = all) */
  int port;                     /* plain TCP port, 0 = none */
  int tls_port;                 /* DICOM TLS port, 0 = none */
  const char *tls_certificate;  /* PEM: our certificate and private key for tls_port */
  const char *tls_private_key;
  const char *const *tls_trusted; /* PEM certificates of the peers we accept over TLS */
  size_t n_tls_trusted;
  int max_associations;         /* concurrent associations; more are rejected (transient) */
  int idle_timeout_s;           /* an association silent this long is aborted */
  int max_connections;          /* open connections in all (associated or not); more are refused: 0 = 64 */
  int max_connections_per_host; /* open connections from one peer address: 0 = 8 */
  int association_timeout_s;    /* TLS handshake + A-ASSOCIATE-RQ of a new connection: 0 = 10 s */
} rcy_dicom_scp_config;

/* Runs the storage SCP (Verification + Storage of CT, MR, PET, NM, SEG, SR, Secondary Capture) until *stop
 * becomes non-zero, then stops accepting, lets the associations in flight finish (aborting those still open
 * after grace_s seconds) and returns 0. Listening sockets are open when `ready` is called (may be NULL). */
int rcy_dicom_scp_run(const rcy_dicom_scp_config *config, const rcy_dicom_scp_handlers *handlers,
                      volatile int *stop, int grace_s, void (*ready)(void *ctx), rcy_error *err);

/* One transfer syntax / SOP class list entry of the conformance statement. */
typedef struct rcy_dicom_uid_entry {
  const char *uid;
  const char *name;
} rcy_dicom_uid_entry;
/* The storage SOP classes and transfer syntaxes the SCP accepts (static tables). */
const rcy_dicom_uid_entry *rcy_dicom_scp_sop_classes(size_t *n);
const rcy_dicom_uid_entry *rcy_dicom_scp_transfer_syntaxes(size_t *n);

/* A remote node to pull from. */
typedef struct rcy_dicom_peer {
  const char *host;
  int port;
  const char *ae_title;      /* the peer's AE */
  const char *our_ae_title;  /* calling AE we use */
  int use_move;              /* 1: C-MOVE to move_destination; 0: C-GET */
  const char *move_destination;
  int timeout_s;             /* association set-up and each wait for the peer (0 = 30 s): a node that accepts
                                TCP and never answers costs this long, not forever */
  const volatile int *stop;  /* NULL, or checked every second while waiting: non-zero aborts the association
                                and the call returns RCY_EDICOM ("abandoned: stop requested") */
  const rcy_dicom_tls_client *tls; /* NULL: plain TCP */
} rcy_dicom_peer;

/* Retrieves every instance of study_uid from peer (C-GET, or C-MOVE to move_destination). With C-GET each
 * received instance is streamed to handlers->temp_path and handed to handlers->store (the same checks as the
 * SCP; associate and release are not called, assoc_ctx is handlers->ctx). Counts of completed/failed
 * sub-operations as reported by the peer go to *n_completed / *n_failed. */
int rcy_dicom_retrieve_study(int *n_completed, int *n_failed, const rcy_dicom_peer *peer, const char *study_uid,
                             const rcy_dicom_scp_handlers *handlers, rcy_error *err);

/* ---- Section: C-FIND SCU at study level (src/dicom/net_find.cc; used by ingest/poll.c) ---- */

/* The keys of a study-level C-FIND (Study Root). */
typedef struct rcy_dicom_find_query {
  const char *patient_id;   /* PatientID matching key, DICOM wildcards allowed (e.g. "CIREL-014-*"); required */
  const char *date_from;    /* StudyDate range YYYYMMDD-YYYYMMDD; NULL or "" = open on that side */
  const char *date_to;
} rcy_dicom_find_query;

/* One match, as the peer gave it (strings empty when it did not return the attribute). */
typedef struct rcy_dicom_study_match {
  char study_uid[RCY_DICOM_UID_SIZE];
  char patient_id[65];
  char study_date[9];
  int n_instances;          /* NumberOfStudyRelatedInstances; -1 when not returned */
} rcy_dicom_study_match;

/* Queries peer (C-FIND, Study Root, study level) and calls fn for each match; a non-zero return of fn
 * ends the query (the association is aborted) and is returned. Bounded: more than max_matches matches end
 * the query the same way and give RCY_EINVAL naming the bound. *n_matches counts the matches received. The peer's timeout_s and stop
 * apply. Every response's identifier goes through the nesting guard before DCMTK parses it. */
int rcy_dicom_find_studies(int *n_matches, const rcy_dicom_peer *peer, const rcy_dicom_find_query *query,
                           int max_matches, int (*fn)(void *ctx, const rcy_dicom_study_match *match), void *ctx,
                           rcy_error *err);


/* ---- Section: SR Measurement Report, TID 1500 (src/dicom/sr_tid1500.cc; used by qa/sr_export.c) ---- */

/* One lesion of a read at one timepoint. Image references are archive file paths: the builder reads their
 * SOP Class/Instance UIDs (and, for the image library, their descriptors) itself. Pixel coordinates are
 * (column, row) as the workstation stores the calipers. */
typedef struct rcy_dicom_sr_lesion {
  const char *tracking_id;  /* "T1", "NT1", "N1" */
  const char *tracking_uid; /* stable across timepoints for the same read and lesion */
  const char *kind;         /* "target" | "non_target" | "new" */
  const char *organ;        /* recistry organ name: liver, lung, lymph node, ... (else "other") */
  const char *state;        /* the reader's state at this timepoint (present, absent, too_small, ...) or NULL */
  /* Long axis with its caliper on image_path; has_long 0 when not measured at this timepoint. */
  int has_long;
  double long_mm;
  double long_p[4]; /* p1 col, row, p2 col, row */
  int has_short;
  double short_mm;
  double short_p[4];
  const char *image_path; /* the instance the calipers are on (has_long) */
  /* A point (non-target or new lesion located on an image) */
  int has_point;
  double point[2];
  const char *point_image_path;
} rcy_dicom_sr_lesion;

typedef struct rcy_dicom_sr_report {
  const char *header_image_path; /* Patient and Study modules are copied from this instance */
  const char *sop_instance_uid;  /* of the report (the caller derives it deterministically) */
  const char *series_uid;
  const char *timepoint;         /* Clinical Trial Time Point ID and TID 1502 time point */
  const char *observer;          /* person observer: the reader's account name */
  const char *observer_role;     /* site | central | adjudicator (Institution/organisation of the observer) */
  const char *series_description;
  const char *target_response;     /* CR | PR | SD | PD | NE | NULL: report-level qualitative evaluations */
  const char *non_target_response; /* CR | NON_CR_NON_PD | PD | NE | NULL */
  const char *overall_response;    /* CR | PR | SD | PD | NE | NON_CR_NON_PD | NULL */
  const rcy_dicom_sr_lesion *lesions;
  size_t n_lesions;
} rcy_dicom_sr_report;

/* Builds an Enhanced SR Imaging Measurement Report (TID 1500) with DCMTK's dcmsr/cmr template classes: one
 * TID 1501 measurement group per lesion and writes it as a Part 10 file to path (PATH.tmp, renamed).
 * RCY_EDICOM when a referenced image cannot be read or DCMTK refuses a value. */
int rcy_dicom_sr_tid1500_write(const rcy_dicom_sr_report *report, const char *path, rcy_error *err);

/* C-STORE of the Part 10 files to a storage SCP (host, port, called AE; calling AE our_ae). *n_sent receives
 * the number stored with a Success (or warning) status. */
int rcy_dicom_store_files(size_t *n_sent, const char *host, int port, const char *called_ae, const char *our_ae,
                          const char *const *paths, size_t n_paths, rcy_error *err);


/* ---- Section: Segmentation (SEG), binary lesion masks (src/dicom/seg.cc) ---- */

/* A binary lesion mask on consecutive slices of one image series, to store as a DICOM Segmentation
 * (1.2.840.10008.5.1.4.1.1.66.4, BINARY, one segment). Frame i of the mask lies on source image i. The
 * writer reads the source files itself: patient, study, Frame of Reference, clinical trial and
 * de-identification attributes, geometry (position, orientation, pixel spacing, slice thickness) and the
 * references all come from them. See docs/conformance.md ("Segmentation objects"). */
typedef struct rcy_dicom_seg_input {
  const char *const *source_paths; /* the source image files, one per mask frame, in mask order */
  size_t n_frames;
  int rows, columns;               /* of every source image (checked) */
  const uint8_t *mask;             /* n_frames * rows * columns, row-major; non-zero = inside. Frames with no
                                    * pixel set are left out of the SEG; a mask with none is refused */
  const char *segment_label;       /* Segment Label, e.g. "T1 liver" (required) */
  const char *segment_description; /* Segment Description, may be NULL */
  const char *organ;               /* recistry organ name (liver, lung, ...): Anatomic Region; NULL or an organ
                                    * without a code: none */
  const char *tracking_id;         /* Tracking ID/UID of the lesion (as in the SR export): both or neither */
  const char *tracking_uid;
  int semiautomatic_edited;        /* 0: SEMIAUTOMATIC as produced; 1: edited by the reader (still
                                    * SEMIAUTOMATIC; the Segment Description says so) */
  const char *algorithm_name;      /* e.g. "recistry seeded region growing" (required) */
  const char *algorithm_version;   /* e.g. "1" (required) */
  const char *content_creator;     /* the reader (Content Creator's Name, PN; required) */
  const char *series_uid;          /* NULL: generated */
  const char *sop_instance_uid;    /* NULL: generated */
  const char *series_description;  /* NULL: "Lesion segmentation" */
  int series_number, instance_number;
} rcy_dicom_seg_input;

/* Writes the SEG to path (PATH.tmp, renamed: never a partial file) and its SOP Instance UID to sop_uid_out
 * (may be NULL). With explicit UIDs the output is the same for the same input except Content Date/Time (the
 * clock). Refused before anything is written: RCY_EINVAL for an inconsistent input (no pixel set, sizes that
 * do not match a source, two frames on one source, sources of different studies / Frames of Reference /
 * orientations / pixel spacings), RCY_EDICOM for a source that is not a readable image. */
int rcy_dicom_seg_write(const char *path, const rcy_dicom_seg_input *in, char sop_uid_out[RCY_DICOM_UID_SIZE],
                        rcy_error *err);

/* A SEG read back (binary segmentations; every frame of every segment). */
typedef struct rcy_dicom_seg rcy_dicom_seg;
/* RCY_EDICOM when the file is not a readable binary Segmentation. */
int rcy_dicom_seg_read(rcy_dicom_seg **out, const char *path, rcy_error *err);
size_t rcy_dicom_seg_n_frames(const rcy_dicom_seg *seg);
/* Frame f (0-based, file order): the SOP Instance UID of its source image (Derivation Image / Source Image
 * Sequence; "" when the frame has none) and its mask (rows * columns bytes, 0 or 1). NULL when f is out of
 * range. */
const char *rcy_dicom_seg_frame_source(const rcy_dicom_seg *seg, size_t f);
const uint8_t *rcy_dicom_seg_frame_mask(const rcy_dicom_seg *seg, size_t f);
void rcy_dicom_seg_geometry(const rcy_dicom_seg *seg, int *rows, int *columns);
/* Segment Label of the first segment ("" when absent). */
const char *rcy_dicom_seg_segment_label(const rcy_dicom_seg *seg);
void rcy_dicom_seg_free(rcy_dicom_seg *seg);



/* ---- Section: volumes — a whole series as one volume with its quantitative attributes: PET (PT), SPECT (NM)
 * and CT for dosimetry (src/dicom/volume_read.cc; used by dose/) ---- */

/* Decay Correction (0054,1102). */
#define RCY_DICOM_DECAY_NONE 0
#define RCY_DICOM_DECAY_START 1
#define RCY_DICOM_DECAY_ADMIN 2

/* One series as a volume, with what quantitative dosimetry needs. Date-times are seconds since 1970-01-01
 * as if UTC (DICOM DA/TM/DT without a zone are read as one local clock; only differences are used), fractional
 * seconds kept; -1 when absent. A DT carrying a UTC offset (&ZZXX) is moved to the instance's Timezone Offset
 * From UTC (0008,0201) when it has one, so that it is on the same clock as the TM values; without (0008,0201)
 * the offset is ignored. Numbers are -1 and strings "" when absent. The PT/NM fields are empty or -1 for CT. */
typedef struct rcy_dicom_volume {
  char modality[4];              /* "PT", "NM" or "CT" */
  char units[16];                /* Units (0054,1001), e.g. "BQML", "CNTS"; "" when absent; "HU" for CT */
  int decay_correction;          /* RCY_DICOM_DECAY_*; -1 when absent or unknown */
  char radionuclide[64];         /* Radionuclide Code Sequence code meaning, else Radionuclide (0018,0030) */
  double half_life_s;            /* Radionuclide Half Life (0018,1075) */
  double total_dose_bq;          /* Radionuclide Total Dose (0018,1074) */
  double injection_epoch_s;      /* Radiopharmaceutical Start DateTime (0018,1078), else Start Time (0018,1072)
                                  * on the Series Date (an injection the day before the scan then looks like
                                  * one after it: only the DateTime can tell) */
  double series_epoch_s;         /* Series Date/Time (0008,0021/0031) */
  double acquisition_epoch_s;    /* earliest Acquisition Date/Time (0008,0022/0032) over the slices (a time
                                  * without a date is on the Series Date), else Acquisition DateTime (0008,002A) */
  double frame_duration_s;       /* Actual Frame Duration (0018,1242) / 1000, of the first slice */
  char frame_of_reference_uid[65];
  char series_uid[65];
  char study_uid[65];
  int size[3];                   /* columns, rows, slices */
  double origin_mm[3];           /* centre of voxel (0,0,0), patient coordinates (LPS) */
  double spacing_mm[3];          /* column spacing (Pixel Spacing[1]), row spacing (Pixel Spacing[0]), distance
                                  * between slice centres: measured (first to last / (n-1)) for PT and CT, never
                                  * Slice Thickness; |Spacing Between Slices| for NM */
  double direction[9];           /* row-major 3x3, column c = patient direction of index axis c: row cosine,
                                  * column cosine, normal (row x column; for NM with a negative Spacing Between
                                  * Slices, minus the normal) */
  float *values;                 /* size[0]*size[1]*size[2], i fastest; modality values: each slice's own
                                  * Rescale Slope/Intercept applied (PET scales every slice separately); NM
                                  * without Rescale Slope: the stored counts */
  char (*slice_sop_uids)[65];    /* single-frame series: slice k's SOP Instance UID; multi-frame: all the same */
} rcy_dicom_volume;

/* Reads one series (PT, NM or CT) from the given files, all of one series: PT and CT as one instance per
 * slice, ordered by position along the slice normal; NM as one multi-frame reconstructed tomogram (Image Type
 * with RECON TOMO, Detector Information Sequence item 1 for position and orientation, Spacing Between Slices;
 * frame k at position + k * spacing * normal). PT/CT slices must share orientation, rows/columns and pixel
 * spacing, lie on one line along the normal (no gantry tilt), and be evenly spaced: every gap within
 * max(1 %, 0.01 mm) of the median gap. Series attributes come from the first slice (sorted).
 * RCY_EDICOM naming the file and the problem: not DICOM, not PT/NM/CT, files of several series, unequal slice
 * spacing (naming the two positions), two slices at one position, orientation/size/spacing differs, missing
 * pixel data, a malformed date or time (naming the attribute), an NM that is not RECON TOMO or lacks its
 * geometry. Slices are decoded on up to 4 threads. It does not judge the quantitative attributes (dose/
 * refuses what it cannot use, with the attribute's name). */
int rcy_dicom_volume_read_files(rcy_dicom_volume **out, const char *const *paths, size_t n, rcy_error *err);
/* The same over the files of dir (not recursive) whose Modality is `modality` ("PT", "NM", "CT"; NULL: any
 * of them) and, when series_uid is not NULL, of that series. Files that are not DICOM are skipped; a DICOM
 * file of the chosen series that cannot be used (no Pixel Data...) fails the read with its error.
 * RCY_ENOTFOUND when none; RCY_EINVAL when several series match and series_uid is NULL (the message lists
 * them with their file counts). */
int rcy_dicom_volume_read_dir(rcy_dicom_volume **out, const char *dir, const char *modality, const char *series_uid,
                              rcy_error *err);
void rcy_dicom_volume_free(rcy_dicom_volume *v);

/* Checks a Part 10 file received whole in memory (STOW-RS) before anything parses it: the preamble and
 * "DICM", a file meta group naming a transfer syntax, and the data set's sequence nesting under the network
 * guard's limit (RCY_DICOM_MAX_NESTING). 0, or RCY_EDICOM with a reason (no value of the data set in it). */
int rcy_dicom_part10_guard(const void *bytes, size_t len, rcy_error *err);

/* ---- DICOMweb representations (src/dicom/json.cc) ---- */

/* The data set of a Part 10 file as DICOM JSON (PS3.18 F.2; no file meta header), *json_out malloc'ed.
 * Pixel data (7FE0,0010 and its float forms), Waveform Data and overlays become a BulkDataURI of
 * bulk_uri_base + "/" + the tag as 8 hex digits (e.g. ".../bulkdata/7FE00010"); every other binary value
 * is inline (InlineBinary). bulk_uri_base NULL: no BulkDataURI, pixel data left out. */
int rcy_dicom_json(char **json_out, const char *path, const char *bulk_uri_base, rcy_error *err);

/* The tag of a data dictionary keyword ("StudyInstanceUID") or of 8 hex digits ("0020000D"): 0, or
 * RCY_ENOTFOUND. */
int rcy_dicom_tag_parse(rcy_dicom_tag *tag, const char *keyword_or_hex);

/* Frame count and the size of one uncompressed frame (bytes) of a Part 10 file's pixel data. */
int rcy_dicom_frame_info(unsigned *n_frames, size_t *frame_bytes, const char *path, rcy_error *err);
/* Frames first..first+n-1 (1-based) of a Part 10 file, uncompressed (native little-endian pixel cells, as
 * Explicit VR Little Endian holds them; compressed transfer syntaxes are decoded), one after the other in
 * *bytes_out (malloc'ed, n * frame_bytes). RCY_ENOTFOUND for a frame beyond the last, RCY_EDICOM when the
 * pixel data cannot be decoded. */
int rcy_dicom_frames_read(void **bytes_out, size_t *len_out, const char *path, unsigned first, unsigned n,
                          rcy_error *err);

#ifdef __cplusplus
}
#endif
#endif
