/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The classes one connection has sent, with their field lists. Hessian
 * defines a class once per direction and later objects of that name only
 * carry values, so two objects of one class with different fields would
 * make an undecodable stream (a Java class has one field list). The writer
 * does not check this; the client does before writing, so the mistake is a
 * scenario error with a line number instead of a broken connection. */
#ifndef HMTP_CLIENT_CLASS_REGISTRY_H
#define HMTP_CLIENT_CLASS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "value.h"

typedef struct class_entry {
    char *name;
    size_t n;
    char **fields;
} class_entry;

typedef struct class_registry {
    class_entry *classes;
    size_t n, cap;
} class_registry;

void class_registry_free(class_registry *r);

/* Checks every object in v against the classes sent before and records the
 * new ones. False (msg says which class and how) on a mismatch or out of
 * memory; the registry is then unchanged for the mismatching class. */
bool class_registry_check(class_registry *r, const hessian_value *v, char *msg, size_t msg_size);

#endif
