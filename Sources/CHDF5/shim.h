// HDF5 through Swift: the predefined type ids (H5T_NATIVE_FLOAT, ...) and property-list
// classes are macros that expand to global variables behind H5open(); Swift imports neither,
// so each is wrapped in a static inline function. H5P_DEFAULT is re-declared as a hid_t.
#ifndef ICL_CHDF5_SHIM_H
#define ICL_CHDF5_SHIM_H
#include "/usr/include/hdf5/serial/hdf5.h"
#include "/usr/include/hdf5/serial/hdf5_hl.h"

static const hid_t icl_H5P_DEFAULT = 0;
static inline hid_t icl_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t icl_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t icl_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t icl_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t icl_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t icl_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t icl_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t icl_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t icl_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t icl_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t icl_H5T_STD_I8LE(void) { return H5T_STD_I8LE; }
static inline hid_t icl_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t icl_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t icl_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t icl_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t icl_H5P_DATASET_XFER(void) { return H5P_DATASET_XFER; }
static inline hid_t icl_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t icl_H5P_GROUP_CREATE(void) { return H5P_GROUP_CREATE; }
static inline hid_t icl_H5S_ALL(void) { return H5S_ALL; }
#endif
