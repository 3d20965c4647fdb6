/* SPDX-License-Identifier: GPL-2.0 */
/* files module records (stub: to be written). */
#ifndef KSIGHT_FILES_H
#define KSIGHT_FILES_H

#include "common.h"

#endif
