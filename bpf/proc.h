/* SPDX-License-Identifier: GPL-2.0 */
/* proc module records (stub: to be written). */
#ifndef KSIGHT_PROC_H
#define KSIGHT_PROC_H

#include "common.h"

#endif
