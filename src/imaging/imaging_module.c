/* The imaging module's one export: its table (imaging_module.h), pointing at rcy_imaging's functions linked into
 * recistry-imaging.so with ITK. */
#include "imaging_module.h"

const rcy_imaging_module_table rcy_imaging_module = {
    RCY_MODULE_HEADER("imaging", rcy_imaging_module_table),
    rcy_imaging_volume_read_series,
    rcy_imaging_volume_free,
    rcy_imaging_volume_size,
    rcy_imaging_volume_origin_mm,
    rcy_imaging_volume_spacing_mm,
    rcy_imaging_volume_direction,
    rcy_imaging_volume_voxels,
    rcy_imaging_volume_index_to_mm,
    rcy_imaging_lesion_radius,
    rcy_imaging_segment_lesion,
    rcy_imaging_lesion_free,
    rcy_imaging_measure_mask,
    rcy_imaging_mask_read,
    rcy_imaging_mask_write_nrrd,
    rcy_imaging_float_write,
};
