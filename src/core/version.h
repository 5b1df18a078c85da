/* version.h: the program's version (quotewatch version, the build-info
 * metric). */
#ifndef QW_CORE_VERSION_H
#define QW_CORE_VERSION_H

#define QW_VERSION "0.1.0"

#endif
