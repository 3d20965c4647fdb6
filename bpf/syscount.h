/* SPDX-License-Identifier: GPL-2.0 */
/* syscount module records (stub: to be written). */
#ifndef KSIGHT_SYSCOUNT_H
#define KSIGHT_SYSCOUNT_H

#include "common.h"

#endif
