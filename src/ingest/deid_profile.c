/* The anonymisation profile the ingest check applies: the rows of DICOM PS3.15 Annex E table E.1-1 (Basic
 * Application Level Confidentiality Profile) that bear on identity, with the standard's action code and what
 * recistry does with each. A data table, not code: docs/ingest.md shows the same table to sites.
 *
 * Why not every row of E.1-1 is "must be empty": the registry receives data de-identified with the Basic
 * Profile plus the Retain Longitudinal Temporal Information (Modified Dates) and Retain Patient
 * Characteristics options (the sample files declare them in Deidentification Method Code Sequence), and it
 * needs the clinical trial attributes, dates and series descriptions to place and read an image. Rows whose
 * action is U (UIDs) are replaced by the site's pseudonymisation and cannot be checked; recistry validates
 * the syntax of the three it indexes. Rows of E.1-1 not listed here (technical, RT, waveform and other
 * non-identity attributes) are not checked. */
#include "ingest_internal.h"

#include <pthread.h>

#define T(g, e) RCY_DICOM_TAG(0x##g, 0x##e)

static const rcy_deid_entry profile[] = {
    /* ---- identity: absent or empty, at any depth ---- */
    {T(0008, 0050), "AccessionNumber", "Z", RCY_DEID_EMPTY},
    {T(0008, 0080), "InstitutionName", "X/Z/D", RCY_DEID_EMPTY},
    {T(0008, 0081), "InstitutionAddress", "X", RCY_DEID_EMPTY},
    {T(0008, 0082), "InstitutionCodeSequence", "X/Z/D", RCY_DEID_EMPTY},
    {T(0008, 0090), "ReferringPhysicianName", "Z", RCY_DEID_EMPTY},
    {T(0008, 0092), "ReferringPhysicianAddress", "X", RCY_DEID_EMPTY},
    {T(0008, 0094), "ReferringPhysicianTelephoneNumbers", "X", RCY_DEID_EMPTY},
    {T(0008, 0096), "ReferringPhysicianIdentificationSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 009C), "ConsultingPhysicianName", "Z", RCY_DEID_EMPTY},
    {T(0008, 009D), "ConsultingPhysicianIdentificationSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 1000), "NetworkID", "X", RCY_DEID_EMPTY},
    {T(0008, 1010), "StationName", "X/Z/D", RCY_DEID_EMPTY},
    {T(0008, 1040), "InstitutionalDepartmentName", "X", RCY_DEID_EMPTY},
    {T(0008, 1041), "InstitutionalDepartmentTypeCodeSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 1048), "PhysiciansOfRecord", "X", RCY_DEID_EMPTY},
    {T(0008, 1049), "PhysiciansOfRecordIdentificationSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 1050), "PerformingPhysicianName", "X", RCY_DEID_EMPTY},
    {T(0008, 1052), "PerformingPhysicianIdentificationSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 1060), "NameOfPhysiciansReadingStudy", "X", RCY_DEID_EMPTY},
    {T(0008, 1062), "PhysiciansReadingStudyIdentificationSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 1070), "OperatorsName", "X/Z/D", RCY_DEID_EMPTY},
    {T(0008, 1072), "OperatorIdentificationSequence", "X/D", RCY_DEID_EMPTY},
    {T(0008, 1080), "AdmittingDiagnosesDescription", "X", RCY_DEID_EMPTY},
    {T(0008, 1084), "AdmittingDiagnosesCodeSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 1120), "ReferencedPatientSequence", "X", RCY_DEID_EMPTY},
    {T(0008, 4000), "IdentifyingComments", "X", RCY_DEID_EMPTY},
    {T(0010, 0021), "IssuerOfPatientID", "X", RCY_DEID_EMPTY},
    {T(0010, 0030), "PatientBirthDate", "Z", RCY_DEID_EMPTY},
    {T(0010, 0032), "PatientBirthTime", "X", RCY_DEID_EMPTY},
    {T(0010, 0050), "PatientInsurancePlanCodeSequence", "X", RCY_DEID_EMPTY},
    {T(0010, 0101), "PatientPrimaryLanguageCodeSequence", "X", RCY_DEID_EMPTY},
    {T(0010, 0102), "PatientPrimaryLanguageModifierCodeSequence", "X", RCY_DEID_EMPTY},
    {T(0010, 1000), "OtherPatientIDs", "X", RCY_DEID_EMPTY},
    {T(0010, 1001), "OtherPatientNames", "X", RCY_DEID_EMPTY},
    {T(0010, 1002), "OtherPatientIDsSequence", "X", RCY_DEID_EMPTY},
    {T(0010, 1005), "PatientBirthName", "X", RCY_DEID_EMPTY},
    {T(0010, 1040), "PatientAddress", "X", RCY_DEID_EMPTY},
    {T(0010, 1050), "InsurancePlanIdentification", "X", RCY_DEID_EMPTY},
    {T(0010, 1060), "PatientMotherBirthName", "X", RCY_DEID_EMPTY},
    {T(0010, 1080), "MilitaryRank", "X", RCY_DEID_EMPTY},
    {T(0010, 1081), "BranchOfService", "X", RCY_DEID_EMPTY},
    {T(0010, 1090), "MedicalRecordLocator", "X", RCY_DEID_EMPTY},
    {T(0010, 1100), "ReferencedPatientPhotoSequence", "X", RCY_DEID_EMPTY},
    {T(0010, 2000), "MedicalAlerts", "X", RCY_DEID_EMPTY},
    {T(0010, 2110), "Allergies", "X", RCY_DEID_EMPTY},
    {T(0010, 2150), "CountryOfResidence", "X", RCY_DEID_EMPTY},
    {T(0010, 2152), "RegionOfResidence", "X", RCY_DEID_EMPTY},
    {T(0010, 2154), "PatientTelephoneNumbers", "X", RCY_DEID_EMPTY},
    {T(0010, 2155), "PatientTelecomInformation", "X", RCY_DEID_EMPTY},
    {T(0010, 2160), "EthnicGroup", "X", RCY_DEID_EMPTY},
    {T(0010, 2180), "Occupation", "X", RCY_DEID_EMPTY},
    {T(0010, 21B0), "AdditionalPatientHistory", "X", RCY_DEID_EMPTY},
    {T(0010, 21D0), "LastMenstrualDate", "X", RCY_DEID_EMPTY},
    {T(0010, 21F0), "PatientReligiousPreference", "X", RCY_DEID_EMPTY},
    {T(0010, 2297), "ResponsiblePerson", "X", RCY_DEID_EMPTY},
    {T(0010, 2299), "ResponsibleOrganization", "X", RCY_DEID_EMPTY},
    {T(0010, 4000), "PatientComments", "X", RCY_DEID_EMPTY},
    {T(0018, 1000), "DeviceSerialNumber", "X/Z/D", RCY_DEID_EMPTY},
    {T(0018, 1004), "PlateID", "X", RCY_DEID_EMPTY},
    {T(0018, 1005), "GeneratorID", "X", RCY_DEID_EMPTY},
    {T(0018, 1007), "CassetteID", "X", RCY_DEID_EMPTY},
    {T(0018, 1008), "GantryID", "X", RCY_DEID_EMPTY},
    {T(0018, 1009), "UniqueDeviceIdentifier", "X", RCY_DEID_EMPTY},
    {T(0018, 100A), "UDISequence", "X", RCY_DEID_EMPTY},
    {T(0018, 4000), "AcquisitionComments", "X", RCY_DEID_EMPTY},
    {T(0018, 700A), "DetectorID", "X/D", RCY_DEID_EMPTY},
    {T(0020, 4000), "ImageComments", "X", RCY_DEID_EMPTY},
    {T(0028, 4000), "ImagePresentationComments", "X", RCY_DEID_EMPTY},
    {T(0032, 0012), "StudyIDIssuer", "X", RCY_DEID_EMPTY},
    {T(0032, 1020), "ScheduledStudyLocation", "X", RCY_DEID_EMPTY},
    {T(0032, 1021), "ScheduledStudyLocationAETitle", "X", RCY_DEID_EMPTY},
    {T(0032, 1030), "ReasonForStudy", "X", RCY_DEID_EMPTY},
    {T(0032, 1032), "RequestingPhysician", "X", RCY_DEID_EMPTY},
    {T(0032, 1033), "RequestingService", "X", RCY_DEID_EMPTY},
    {T(0032, 1060), "RequestedProcedureDescription", "X/Z", RCY_DEID_EMPTY},
    {T(0032, 1066), "ReasonForVisit", "X", RCY_DEID_EMPTY},
    {T(0032, 1067), "ReasonForVisitCodeSequence", "X", RCY_DEID_EMPTY},
    {T(0032, 4000), "StudyComments", "X", RCY_DEID_EMPTY},
    {T(0038, 0004), "ReferencedPatientAliasSequence", "X", RCY_DEID_EMPTY},
    {T(0038, 0010), "AdmissionID", "X", RCY_DEID_EMPTY},
    {T(0038, 0011), "IssuerOfAdmissionID", "X", RCY_DEID_EMPTY},
    {T(0038, 0014), "IssuerOfAdmissionIDSequence", "X", RCY_DEID_EMPTY},
    {T(0038, 0040), "DischargeDiagnosisDescription", "X", RCY_DEID_EMPTY},
    {T(0038, 0050), "SpecialNeeds", "X", RCY_DEID_EMPTY},
    {T(0038, 0060), "ServiceEpisodeID", "X", RCY_DEID_EMPTY},
    {T(0038, 0061), "IssuerOfServiceEpisodeID", "X", RCY_DEID_EMPTY},
    {T(0038, 0062), "ServiceEpisodeDescription", "X", RCY_DEID_EMPTY},
    {T(0038, 0064), "IssuerOfServiceEpisodeIDSequence", "X", RCY_DEID_EMPTY},
    {T(0038, 0300), "CurrentPatientLocation", "X", RCY_DEID_EMPTY},
    {T(0038, 0400), "PatientInstitutionResidence", "X", RCY_DEID_EMPTY},
    {T(0038, 0500), "PatientState", "X", RCY_DEID_EMPTY},
    {T(0038, 4000), "VisitComments", "X", RCY_DEID_EMPTY},
    {T(0040, 0006), "ScheduledPerformingPhysicianName", "X", RCY_DEID_EMPTY},
    {T(0040, 000B), "ScheduledPerformingPhysicianIdentificationSequence", "X", RCY_DEID_EMPTY},
    {T(0040, 0010), "ScheduledStationName", "X", RCY_DEID_EMPTY},
    {T(0040, 0011), "ScheduledProcedureStepLocation", "X", RCY_DEID_EMPTY},
    {T(0040, 0241), "PerformedStationAETitle", "X", RCY_DEID_EMPTY},
    {T(0040, 0242), "PerformedStationName", "X", RCY_DEID_EMPTY},
    {T(0040, 0243), "PerformedLocation", "X", RCY_DEID_EMPTY},
    {T(0040, 0253), "PerformedProcedureStepID", "X", RCY_DEID_EMPTY},
    {T(0040, 0275), "RequestAttributesSequence", "X", RCY_DEID_EMPTY},
    {T(0040, 0280), "CommentsOnThePerformedProcedureStep", "X", RCY_DEID_EMPTY},
    {T(0040, 1001), "RequestedProcedureID", "X", RCY_DEID_EMPTY},
    {T(0040, 1004), "PatientTransportArrangements", "X", RCY_DEID_EMPTY},
    {T(0040, 1005), "RequestedProcedureLocation", "X", RCY_DEID_EMPTY},
    {T(0040, 1010), "NamesOfIntendedRecipientsOfResults", "X", RCY_DEID_EMPTY},
    {T(0040, 1011), "IntendedRecipientsOfResultsIdentificationSequence", "X", RCY_DEID_EMPTY},
    {T(0040, 1101), "PersonIdentificationCodeSequence", "D", RCY_DEID_EMPTY},
    {T(0040, 1102), "PersonAddress", "X", RCY_DEID_EMPTY},
    {T(0040, 1103), "PersonTelephoneNumbers", "X", RCY_DEID_EMPTY},
    {T(0040, 1104), "PersonTelecomInformation", "X", RCY_DEID_EMPTY},
    {T(0040, 1400), "RequestedProcedureComments", "X", RCY_DEID_EMPTY},
    {T(0040, 2001), "ReasonForTheImagingServiceRequest", "X", RCY_DEID_EMPTY},
    {T(0040, 2008), "OrderEnteredBy", "X", RCY_DEID_EMPTY},
    {T(0040, 2009), "OrderEntererLocation", "X", RCY_DEID_EMPTY},
    {T(0040, 2010), "OrderCallbackPhoneNumber", "X", RCY_DEID_EMPTY},
    {T(0040, 2011), "OrderCallbackTelecomInformation", "X", RCY_DEID_EMPTY},
    {T(0040, 2016), "PlacerOrderNumberImagingServiceRequest", "Z", RCY_DEID_EMPTY},
    {T(0040, 2017), "FillerOrderNumberImagingServiceRequest", "Z", RCY_DEID_EMPTY},
    {T(0040, 2400), "ImagingServiceRequestComments", "X", RCY_DEID_EMPTY},
    {T(0040, 3001), "ConfidentialityConstraintOnPatientDataDescription", "X", RCY_DEID_EMPTY},
    {T(0040, 4034), "ScheduledHumanPerformersSequence", "X", RCY_DEID_EMPTY},
    {T(0040, 4035), "ActualHumanPerformersSequence", "X", RCY_DEID_EMPTY},
    {T(0040, 4036), "HumanPerformerOrganization", "X", RCY_DEID_EMPTY},
    {T(0040, 4037), "HumanPerformerName", "X", RCY_DEID_EMPTY},
    {T(0040, A027), "VerifyingOrganization", "D", RCY_DEID_EMPTY},
    {T(0040, A073), "VerifyingObserverSequence", "D", RCY_DEID_EMPTY},
    {T(0040, A075), "VerifyingObserverName", "D", RCY_DEID_EMPTY},
    {T(0040, A078), "AuthorObserverSequence", "X", RCY_DEID_EMPTY},
    {T(0040, A07A), "ParticipantSequence", "X", RCY_DEID_EMPTY},
    {T(0040, A07C), "CustodialOrganizationSequence", "X", RCY_DEID_EMPTY},
    {T(0040, A088), "VerifyingObserverIdentificationCodeSequence", "Z", RCY_DEID_EMPTY},
    {T(0040, A123), "PersonName", "D", RCY_DEID_EMPTY},
    {T(0070, 0084), "ContentCreatorName", "Z/D", RCY_DEID_EMPTY},
    {T(0070, 0086), "ContentCreatorIdentificationCodeSequence", "X", RCY_DEID_EMPTY},
    {T(0088, 0200), "IconImageSequence", "X", RCY_DEID_EMPTY},
    {T(0400, 0550), "ModifiedAttributesSequence", "X", RCY_DEID_EMPTY},
    {T(0400, 0561), "OriginalAttributesSequence", "X", RCY_DEID_EMPTY},
    {T(4000, 4000), "TextComments", "X", RCY_DEID_EMPTY},
    {T(4008, 010A), "InterpretationTranscriber", "X", RCY_DEID_EMPTY},
    {T(4008, 010B), "InterpretationText", "X", RCY_DEID_EMPTY},
    {T(4008, 010C), "InterpretationAuthor", "X", RCY_DEID_EMPTY},
    {T(4008, 0102), "InterpretationRecorder", "X", RCY_DEID_EMPTY},
    {T(4008, 0114), "PhysicianApprovingInterpretation", "X", RCY_DEID_EMPTY},
    {T(4008, 0300), "Impressions", "X", RCY_DEID_EMPTY},
    {T(4008, 4000), "ResultsComments", "X", RCY_DEID_EMPTY},

    /* ---- the patient: empty or the trial subject ID (top level); nested, only those values ---- */
    {T(0010, 0010), "PatientName", "Z", RCY_DEID_SUBJECT},
    {T(0010, 0020), "PatientID", "Z", RCY_DEID_SUBJECT},

    /* ---- a visit number: empty or one of the trial's own codes (subject ID, time point ID) ---- */
    {T(0020, 0010), "StudyID", "Z", RCY_DEID_TRIAL_CODE},

    /* ---- kept: the registry's own trial attributes (Site ID and Subject ID are checked against the site)
       ---- */
    {T(0012, 0010), "ClinicalTrialSponsorName", "D", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0020), "ClinicalTrialProtocolID", "D", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0021), "ClinicalTrialProtocolName", "Z", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0030), "ClinicalTrialSiteID", "Z", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0031), "ClinicalTrialSiteName", "Z", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0040), "ClinicalTrialSubjectID", "D", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0042), "ClinicalTrialSubjectReadingID", "D", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0050), "ClinicalTrialTimePointID", "Z", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0051), "ClinicalTrialTimePointDescription", "X", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0060), "ClinicalTrialCoordinatingCenterName", "Z", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0071), "ClinicalTrialSeriesID", "X", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0072), "ClinicalTrialSeriesDescription", "X", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0081), "ClinicalTrialProtocolEthicsCommitteeName", "D", RCY_DEID_KEPT_TRIAL},
    {T(0012, 0082), "ClinicalTrialProtocolEthicsCommitteeApprovalNumber", "X", RCY_DEID_KEPT_TRIAL},

    /* ---- kept: dates and times (Retain Longitudinal Temporal Information, Modified Dates Option) ---- */
    {T(0008, 0012), "InstanceCreationDate", "X/D", RCY_DEID_KEPT_DATE},
    {T(0008, 0013), "InstanceCreationTime", "X/Z/D", RCY_DEID_KEPT_DATE},
    {T(0008, 0020), "StudyDate", "Z", RCY_DEID_KEPT_DATE},
    {T(0008, 0021), "SeriesDate", "X/D", RCY_DEID_KEPT_DATE},
    {T(0008, 0022), "AcquisitionDate", "X/Z", RCY_DEID_KEPT_DATE},
    {T(0008, 0023), "ContentDate", "Z/D", RCY_DEID_KEPT_DATE},
    {T(0008, 002A), "AcquisitionDateTime", "X/Z/D", RCY_DEID_KEPT_DATE},
    {T(0008, 0030), "StudyTime", "Z", RCY_DEID_KEPT_DATE},
    {T(0008, 0031), "SeriesTime", "X/D", RCY_DEID_KEPT_DATE},
    {T(0008, 0032), "AcquisitionTime", "X/Z", RCY_DEID_KEPT_DATE},
    {T(0008, 0033), "ContentTime", "Z/D", RCY_DEID_KEPT_DATE},
    {T(0008, 0201), "TimezoneOffsetFromUTC", "X", RCY_DEID_KEPT_DATE},
    {T(0018, 1042), "ContrastBolusStartTime", "X", RCY_DEID_KEPT_DATE},
    {T(0018, 1043), "ContrastBolusStopTime", "X", RCY_DEID_KEPT_DATE},

    /* ---- kept: patient characteristics (Retain Patient Characteristics Option) ---- */
    {T(0010, 0040), "PatientSex", "Z", RCY_DEID_KEPT_PATIENT},
    {T(0010, 1010), "PatientAge", "X", RCY_DEID_KEPT_PATIENT},
    {T(0010, 1020), "PatientSize", "X", RCY_DEID_KEPT_PATIENT},
    {T(0010, 1030), "PatientWeight", "X", RCY_DEID_KEPT_PATIENT},
    {T(0010, 21A0), "SmokingStatus", "X", RCY_DEID_KEPT_PATIENT},
    {T(0010, 21C0), "PregnancyStatus", "X", RCY_DEID_KEPT_PATIENT},
    {T(0010, 2203), "PatientSexNeutered", "X/Z", RCY_DEID_KEPT_PATIENT},

    /* ---- kept: acquisition descriptors the reader needs (the site's de-identification reviews them) ---- */
    {T(0008, 1030), "StudyDescription", "X", RCY_DEID_KEPT_DESCRIPTOR},
    {T(0008, 103E), "SeriesDescription", "X", RCY_DEID_KEPT_DESCRIPTOR},
    {T(0008, 2111), "DerivationDescription", "X", RCY_DEID_KEPT_DESCRIPTOR},
    {T(0018, 0010), "ContrastBolusAgent", "Z/D", RCY_DEID_KEPT_DESCRIPTOR},
    {T(0018, 1030), "ProtocolName", "X/D", RCY_DEID_KEPT_DESCRIPTOR},
    {T(0018, 1400), "AcquisitionDeviceProcessingDescription", "X/D", RCY_DEID_KEPT_DESCRIPTOR},
    {T(0040, 0007), "ScheduledProcedureStepDescription", "X", RCY_DEID_KEPT_DESCRIPTOR},
    {T(0040, 0254), "PerformedProcedureStepDescription", "X", RCY_DEID_KEPT_DESCRIPTOR},

    /* ---- U: replaced by the site's pseudonymisation, not checked (the indexed ones are validated) ---- */
    {T(0002, 0003), "MediaStorageSOPInstanceUID", "U", RCY_DEID_UID},
    {T(0008, 0014), "InstanceCreatorUID", "U", RCY_DEID_UID},
    {T(0008, 0018), "SOPInstanceUID", "U", RCY_DEID_UID},
    {T(0008, 1155), "ReferencedSOPInstanceUID", "U", RCY_DEID_UID},
    {T(0008, 3010), "IrradiationEventUID", "U", RCY_DEID_UID},
    {T(0020, 000D), "StudyInstanceUID", "U", RCY_DEID_UID},
    {T(0020, 000E), "SeriesInstanceUID", "U", RCY_DEID_UID},
    {T(0020, 0052), "FrameOfReferenceUID", "U", RCY_DEID_UID},
    {T(0020, 0200), "SynchronizationFrameOfReferenceUID", "U", RCY_DEID_UID},
    {T(0040, A124), "UID", "U", RCY_DEID_UID},
};

#define N_PROFILE (sizeof profile / sizeof profile[0])

static uint32_t checked_tags[N_PROFILE];
static size_t checked_entry[N_PROFILE]; /* checked_tags[i] is profile[checked_entry[i]] */
static size_t n_checked;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void) {
  for (size_t i = 0; i < N_PROFILE; i++)
    if (profile[i].rule == RCY_DEID_EMPTY || profile[i].rule == RCY_DEID_SUBJECT ||
        profile[i].rule == RCY_DEID_TRIAL_CODE) {
      checked_entry[n_checked] = i;
      checked_tags[n_checked++] = profile[i].tag;
    }
}

size_t rcy_ingest_deid_profile(const rcy_deid_entry **entries) {
  *entries = profile;
  return N_PROFILE;
}

size_t rcy_ingest_phi_tags(const uint32_t **tags) {
  pthread_once(&once, build);
  *tags = checked_tags;
  return n_checked;
}

const rcy_deid_entry *rcy_ingest_phi_entry(size_t i) {
  pthread_once(&once, build);
  return i < n_checked ? &profile[checked_entry[i]] : NULL;
}

_Static_assert(N_PROFILE <= RCY_INGEST_PROFILE_MAX, "the profile outgrew RCY_INGEST_PROFILE_MAX");
