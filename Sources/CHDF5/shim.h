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
static inline hid_t icl_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }

/* Casted or H5OPEN-guarded macros. */
static const hid_t icl_H5E_DEFAULT = 0;
static inline size_t icl_H5T_VARIABLE(void) { return H5T_VARIABLE; }
static inline unsigned icl_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned icl_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned icl_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }

/* IEEE 754 binary16, little-endian. HDF5 1.10 has no predefined half type: derive it from
 * binary32 (sign bit 15, exponent bits 10-14 with bias 15, mantissa bits 0-9). h5py maps
 * exactly this layout to numpy float16. Returns a new type id; the caller keeps or closes it. */
static inline hid_t icl_H5T_make_IEEE_F16LE(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_precision(t, 16) < 0 || H5Tset_offset(t, 0) < 0
        || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}
#endif
