/* Key images and the read each was rendered for (and, alike, stored segmentations). A key image shows a
 * patient's slice with a reader's calipers: it is served only to those who may see that read (readers/server
 * checks the owner found here), never to anyone who merely has its URL. */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

int rcy_store_key_image_add(rcy_store *store, const char *id, const char *subject_id, const char *role,
                            const char *reader, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO key_images(id, subject_id, role, reader) VALUES(?,?,?,?)"))
    return rcy_store_fail(store, "recording a key image", err);
  rcy_db_bind_text(st, 1, id);
  rcy_db_bind_text(st, 2, subject_id);
  rcy_db_bind_text(st, 3, role);
  rcy_db_bind_text(st, 4, reader);
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  return rc == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "recording a key image", err);
}

int rcy_store_key_image_owner(rcy_store_read_key *out, rcy_store *store, const char *id, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT subject_id, role, reader FROM key_images WHERE id = ?"))
    return rcy_store_fail(store, "looking a key image up", err);
  rcy_db_bind_text(st, 1, id);
  int rc = rcy_db_step(st);
  if (rc == RCY_DB_ROW) {
    snprintf(out->subject_id, sizeof out->subject_id, "%s", rcy_db_column_text(st, 0));
    snprintf(out->role, sizeof out->role, "%s", rcy_db_column_text(st, 1));
    snprintf(out->reader, sizeof out->reader, "%s", rcy_db_column_text(st, 2));
  }
  rcy_db_finalize(st);
  if (rc == RCY_DB_ROW) return RCY_OK;
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "looking a key image up", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "no such key image");
}

int rcy_store_segmentation_add(rcy_store *store, const char *sop_instance_uid, const char *subject_id,
                               const char *role, const char *reader, rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "INSERT INTO segmentations(sop_instance_uid, subject_id, role, reader) VALUES(?,?,?,?)"))
    return rcy_store_fail(store, "recording a segmentation", err);
  rcy_db_bind_text(st, 1, sop_instance_uid);
  rcy_db_bind_text(st, 2, subject_id);
  rcy_db_bind_text(st, 3, role);
  rcy_db_bind_text(st, 4, reader);
  int rc = rcy_db_step(st);
  rcy_db_finalize(st);
  return rc == RCY_DB_DONE ? RCY_OK : rcy_store_fail(store, "recording a segmentation", err);
}

int rcy_store_segmentation_owner(rcy_store_read_key *out, rcy_store *store, const char *sop_instance_uid,
                                 rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT subject_id, role, reader FROM segmentations WHERE sop_instance_uid = ?"))
    return rcy_store_fail(store, "looking a segmentation up", err);
  rcy_db_bind_text(st, 1, sop_instance_uid);
  int rc = rcy_db_step(st);
  if (rc == RCY_DB_ROW) {
    snprintf(out->subject_id, sizeof out->subject_id, "%s", rcy_db_column_text(st, 0));
    snprintf(out->role, sizeof out->role, "%s", rcy_db_column_text(st, 1));
    snprintf(out->reader, sizeof out->reader, "%s", rcy_db_column_text(st, 2));
  }
  rcy_db_finalize(st);
  if (rc == RCY_DB_ROW) return RCY_OK;
  if (rc != RCY_DB_DONE) return rcy_store_fail(store, "looking a segmentation up", err);
  return rcy_error_set(err, RCY_ENOTFOUND, "no such segmentation");
}

int rcy_store_segmentations_each(rcy_store *store, const char *subject_id, rcy_store_segmentation_fn fn, void *ctx,
                                 rcy_error *err) {
  rcy_db_stmt *st;
  if (rcy_db_prepare(&st, store->db, "SELECT sop_instance_uid, role, reader FROM segmentations WHERE subject_id = ? "
                         "ORDER BY sop_instance_uid"))
    return rcy_store_fail(store, "listing segmentations", err);
  rcy_db_bind_text(st, 1, subject_id);
  int rc, out = RCY_OK;
  while ((rc = rcy_db_step(st)) == RCY_DB_ROW) {
    out = fn(ctx, rcy_db_column_text(st, 0), rcy_db_column_text(st, 1),
             rcy_db_column_text(st, 2));
    if (out) break;
  }
  rcy_db_finalize(st);
  if (!out && rc != RCY_DB_DONE) return rcy_store_fail(store, "listing segmentations", err);
  return out;
}
