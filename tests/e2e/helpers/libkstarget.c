// SPDX-License-Identifier: GPL-2.0
/* libkstarget.so: a shared library function for the uprobe tests (utarget calls it). */

__attribute__((noinline)) long kslib_fn(long i)
{
	__asm__ volatile("" ::: "memory");
	return i * 5 + 2;
}
