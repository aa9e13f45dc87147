/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stream state (PROTOCOL.md section 4, "State and its scope"): class
 * definitions and type names live for a direction, refs for a packet; a
 * capture may start mid-stream; and decoding again from a mark reproduces
 * the first decode whatever came in between. */
#include "check.h"
#include "hmtp.h"
#include "testutil.h"

/* p1: C "A" [a], A{1}; typed list "T1" [1]
 * p2: A{2} by index only; C "B" [b], B{3}; list by type ref 0; new type "T2"
 * p3: C "C" [c], C{5}; B{6}; list by type ref 1 ("T2") */
static const char *const P1 = "43 01 41 91 01 61 60 91 71 02 54 31 91";
static const char *const P2 = "60 92 43 01 42 91 01 62 61 93 71 90 93 71 02 54 32 94";
static const char *const P3 = "43 01 43 91 01 63 62 95 61 96 71 91 97";

static void test_state_across_packets(void)
{
    hmtp_buf p1 = hex_bytes(P1), p2 = hex_bytes(P2), p3 = hex_bytes(P3);
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    rec_list l1, l2, l3, again;
    hessian_mark m1 = hessian_stream_mark(&s);
    rec_decode(&l1, &s, m1, p1.data, p1.len, 1000);
    hessian_mark m2 = hessian_stream_mark(&s);
    rec_decode(&l2, &s, m2, p2.data, p2.len, 1000);
    hessian_mark m3 = hessian_stream_mark(&s);
    rec_decode(&l3, &s, m3, p3.data, p3.len, 1000);
    CHECK(l1.end == 0 && l2.end == 0 && l3.end == 0, "three packets decode: %d %d %d (%s)", l1.end, l2.end,
          l3.end, l2.err.msg);
    CHECK(m1.nclasses == 0 && m2.nclasses == 1 && m3.nclasses == 2 && s.nclasses == 3, "class marks 0 1 2, then 3");
    CHECK(m2.ntypes == 1 && m3.ntypes == 2 && s.ntypes == 2, "type marks 1 2, then 2");
    /* p2's first object names class A from p1, by index only */
    if (CHECK(l2.n >= 3, "p2 events"))
        CHECK(l2.ev[0].ev.kind == HESSIAN_OBJECT && l2.ev[0].has_cls && strcmp(l2.ev[0].name, "A") == 0 &&
                  l2.ev[1].field_name && strcmp(l2.ev[1].field_name, "a") == 0 && l2.ev[1].ev.v.i == 2,
              "p2: A{a: 2} from p1's definition");
    if (CHECK(l2.n == 13, "p2: %zu events", l2.n)) {
        CHECK(l2.ev[3].ev.kind == HESSIAN_CLASS_DEF && l2.ev[3].ev.v.def.class_index == 1, "p2: B is class 1");
        CHECK_STR(l2.ev[7].name, "T1", "p2: type ref 0 is T1 from p1");
        CHECK(l2.ev[11].ev.kind == HESSIAN_INT && l2.ev[11].ev.v.i == 4 && l2.ev[11].ev.role == HESSIAN_ROLE_ELEMENT,
              "p2: element of the T2 list");
        CHECK(l2.ev[0].ev.v.object.ref == 0, "refs restart at 0 in each packet");
    }
    if (CHECK(l3.n == 10, "p3: %zu events", l3.n)) {
        CHECK(l3.ev[4].name && strcmp(l3.ev[4].name, "B") == 0 && l3.ev[4].ev.v.object.class_index == 1,
              "p3: B by index 1");
        CHECK_STR(l3.ev[7].name, "T2", "p3: type ref 1 is T2");
    }
    /* the snapshot property: p2 again with its own mark, after p3 */
    rec_decode(&again, &s, m2, p2.data, p2.len, 1000);
    size_t where;
    CHECK(rec_equal(&l2, &again, &where), "p2 decoded again from its mark: events differ at %zu", where);
    CHECK(s.nclasses == 3 && s.ntypes == 2, "decoding again adds nothing: %u classes %u types", s.nclasses,
          s.ntypes);
    rec_free(&again);
    /* and p3 again too, then p1 again */
    rec_decode(&again, &s, m3, p3.data, p3.len, 1000);
    CHECK(rec_equal(&l3, &again, &where), "p3 again: events differ at %zu", where);
    rec_free(&again);
    rec_decode(&again, &s, m1, p1.data, p1.len, 1000);
    CHECK(rec_equal(&l1, &again, &where), "p1 again: events differ at %zu", where);
    rec_free(&again);
    /* a fourth packet still sees the whole table */
    hmtp_buf p4 = hex_bytes("62 98");
    rec_decode(&again, &s, hessian_stream_mark(&s), p4.data, p4.len, 1000);
    CHECK(again.end == 0 && again.n == 3 && again.ev[0].name && strcmp(again.ev[0].name, "C") == 0,
          "p4: class C by index 2");
    rec_free(&again);
    hmtp_buf_free(&p4);
    rec_free(&l1);
    rec_free(&l2);
    rec_free(&l3);
    hessian_stream_free(&s);
    hmtp_buf_free(&p1);
    hmtp_buf_free(&p2);
    hmtp_buf_free(&p3);
}

static void test_mid_stream_start(void)
{
    /* p2 of a stream whose start was not captured: object of class 0 unseen */
    hmtp_buf p2 = hex_bytes(P2);
    rec_list l;
    rec_decode_fresh(&l, p2.data, p2.len);
    CHECK(l.end == 0, "mid-stream p2 decodes without failure (%s @%zu)", l.err.msg, l.err.offset);
    if (CHECK(l.n >= 2, "mid-stream: events"))
        CHECK(l.ev[0].ev.kind == HESSIAN_OBJECT && !l.ev[0].has_cls && l.ev[0].ev.v.object.class_index == 0 &&
                  l.ev[1].field_name == NULL && l.ev[1].ev.kind == HESSIAN_INT && l.ev[1].ev.v.i == 2,
              "mid-stream: object of unseen class #0 with its raw field value");
    rec_free(&l);
    hmtp_buf_free(&p2);
    /* the same through the packet decoder: a message whose value is an
     * object of unseen class #3 with two fields */
    hmtp_buf m = hex_bytes("90 4e 4e 63 91 01 78");
    hessian_stream s;
    hmtp_packet p;
    hmtp_error err;
    hmtp_status st = packet_decode_fresh(&p, &s, m.data, m.len, &err);
    CHECK(st == HMTP_OK, "mid-stream message decodes: %s (%s)", hmtp_status_name(st), err.msg);
    if (st == HMTP_OK && CHECK(p.value && p.value->kind == HESSIAN_OBJECT, "value is an object")) {
        CHECK(p.value->v.object.cls == NULL && p.value->v.object.class_index == 3, "class #3, name unknown");
        CHECK(p.value->v.object.n == 2 && p.value->v.object.fields[0]->v.i == 1 &&
                  p.value->v.object.fields[1]->kind == HESSIAN_STRING,
              "raw field values kept (%zu)", p.value->v.object.n);
    }
    hmtp_packet_free(&p);
    hessian_stream_free(&s);
    hmtp_buf_free(&m);
    /* a typed list whose type name was never seen: type NULL, index kept */
    hmtp_buf t = hex_bytes("71 95 90");
    rec_decode_fresh(&l, t.data, t.len);
    CHECK(l.end == 0 && l.n == 3 && l.ev[0].name == NULL && l.ev[0].ev.v.container.type_index == 5,
          "unseen type ref 5: type NULL, type_index 5 (end %d, %s)", l.end, l.err.msg);
    rec_free(&l);
    hmtp_buf_free(&t);
}

static void test_refs_are_per_packet(void)
{
    /* a ref in the second packet to a container of the first is not valid */
    hmtp_buf a = hex_bytes("57 5a"), b = hex_bytes("51 90");
    hessian_stream s;
    hessian_stream_init(&s, NULL);
    rec_list l;
    rec_decode(&l, &s, hessian_stream_mark(&s), a.data, a.len, 100);
    rec_free(&l);
    rec_decode(&l, &s, hessian_stream_mark(&s), b.data, b.len, 100);
    CHECK(l.end == -1 && l.err.code == HMTP_ERR_BAD_REF, "Q 0 into the previous packet: %s",
          hmtp_status_name(l.err.code));
    rec_free(&l);
    hessian_stream_free(&s);
    hmtp_buf_free(&a);
    hmtp_buf_free(&b);
}

/* A definition inside an open object (the first object of a class nested in
 * a field of another) grows the class table while the outer object is still
 * being read: the outer object must keep its class (and field names). Tried
 * after 0..40 earlier classes so that some attempt grows the table's
 * allocation, whatever its growth policy. */
static void test_definition_inside_open_object(void)
{
    for (int before = 0; before <= 40; before++) {
        hmtp_buf b;
        hmtp_buf_init(&b);
        for (int i = 0; i < before; i++) {
            uint8_t def[] = {0x43, 0x02, 'K', (uint8_t)(0x30 + i), 0x92, 0x01, 'f', 0x01, 'g'};
            hmtp_buf_append(&b, def, sizeof def);
        }
        /* C "Out" [a, b]; Out{a: (C "In" [x]; In{x: 1}), b: 2} */
        hex_append(&b, "43 03 4f 75 74 92 01 61 01 62");
        hmtp_buf_append_byte(&b, 'O');
        hmtp_buf_append_byte(&b, (uint8_t)(0x90 + before)); /* compact int: before <= 47 */
        hex_append(&b, "43 02 49 6e 91 01 78");
        hmtp_buf_append_byte(&b, 'O');
        hmtp_buf_append_byte(&b, (uint8_t)(0x90 + before + 1));
        hex_append(&b, "91 92");
        rec_list l;
        rec_decode_fresh(&l, b.data, b.len);
        /* events: before defs, def Out, Out, def In, In, x, END, b, END */
        size_t k = (size_t)before;
        bool ok = l.end == 0 && l.n == k + 8 && l.ev[k + 1].name && strcmp(l.ev[k + 1].name, "Out") == 0 &&
                  l.ev[k + 3].name && strcmp(l.ev[k + 3].name, "In") == 0 && l.ev[k + 4].field_name &&
                  strcmp(l.ev[k + 4].field_name, "x") == 0 && l.ev[k + 6].field_name &&
                  strcmp(l.ev[k + 6].field_name, "b") == 0 && l.ev[k + 6].ev.v.i == 2;
        CHECK(ok, "definition inside an open object after %d classes: end %d, %zu events (%s)", before, l.end, l.n,
              l.err.msg);
        rec_free(&l);
        hmtp_buf_free(&b);
    }
}

int main(void)
{
    test_definition_inside_open_object();
    test_state_across_packets();
    test_mid_stream_start();
    test_refs_are_per_packet();
    return check_summary("stream_state");
}
