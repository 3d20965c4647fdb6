/* SPDX-License-Identifier: GPL-2.0 */
/* rw module records (stub: to be written). */
#ifndef KSIGHT_RW_H
#define KSIGHT_RW_H

#include "common.h"

#endif
