/* Dose models from the injected activity alone (docs/dosimetry.md, "MIRD and the partition model"): the
 * MIRD single-compartment dose (the perfused liver as one uniform mass), the partition model (tumour and normal
 * liver share the activity in proportion to mass times the MAA tumour-to-normal ratio) and the lung dose from
 * the lung shunt fraction. These are what treatment planning uses; the LDM on the 90Y PET is what was delivered. */
#include "recistry/dose.h"

#include <math.h>
#include <stdio.h>

void rcy_dose_models_compute(rcy_dose_models *m, double injected_gbq, double lsf, double residual,
                             double liver_mass_g, double tumour_mass_g, double normal_mass_g, double lung_mass_g,
                             double tnr) {
  const double k = RCY_DOSE_Y90_GY_KG_PER_GBQ;
  m->injected_gbq = injected_gbq;
  m->lung_shunt_fraction = lsf;
  m->residual_fraction = residual > 0 ? residual : 0;
  double a = injected_gbq * (1.0 - m->residual_fraction); /* delivered to the patient */
  double f_liver = lsf >= 0 ? 1.0 - lsf : 1.0;
  m->mird_liver_gy = liver_mass_g > 0 ? k * a * f_liver / (liver_mass_g / 1000.0) : NAN;
  m->tnr = tnr;
  if (tnr > 0 && normal_mass_g > 0 && tumour_mass_g >= 0) {
    m->partition_normal_gy = k * a * f_liver / ((normal_mass_g + tnr * tumour_mass_g) / 1000.0);
    m->partition_tumour_gy = tnr * m->partition_normal_gy;
  } else {
    m->partition_normal_gy = m->partition_tumour_gy = NAN;
  }
  /* Without a lung VOI the convention is 1 kg of lung (both lungs). */
  double lung_kg = lung_mass_g > 0 ? lung_mass_g / 1000.0 : 1.0;
  m->lung_gy = lsf >= 0 ? k * a * lsf / lung_kg : NAN;
}
