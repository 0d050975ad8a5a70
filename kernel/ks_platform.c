// SPDX-License-Identifier: GPL-2.0
/* The engine's platform interface, built as part of kscript.ko. */
#include "../platform/kernel/platform.c"
