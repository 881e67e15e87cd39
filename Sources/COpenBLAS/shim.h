/* OpenBLAS (Debian libopenblas-dev, pkg-config "openblas"): cblas_sgemm/sgemv and the
 * thread-count controls. libengram.so lists libopenblas.so.0 as NEEDED (a system library). */
#include <cblas.h>
