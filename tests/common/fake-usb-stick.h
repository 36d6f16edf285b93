/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "fake-device.h"

/* A USB stick: sdb -> host6 (usb-storage) -> 1-1 (the USB device) -> usb1
 * (the root hub), for the policy tests and the fuzzer. Each device links to
 * its parent, so a program that uses sdb uses them all; include it only
 * where sdb is used (the definitions are static). */
static struct fake_device hub = {
        .pd = {
                .devpath = "/devices/pci0000:00/0000:00:14.0/usb1",
                .subsystem = "usb",
                .sysname = "usb1",
                .devtype = "usb_device",
                .driver = "usb",
                .devname = "/dev/bus/usb/001/001",
                .type = 'c',
                .major = 189,
                .minor = 0,
                FAKE_CALLBACKS,
        },
        .attributes = { { "idVendor", "1d6b" }, { "idProduct", "0002" } },
};

static struct fake_device stick = {
        .pd = {
                .devpath = "/devices/pci0000:00/0000:00:14.0/usb1/1-1",
                .subsystem = "usb",
                .sysname = "1-1",
                .devtype = "usb_device",
                .driver = "usb",
                .devname = "/dev/bus/usb/001/002",
                .type = 'c',
                .major = 189,
                .minor = 1,
                .parent = &hub.pd,
                FAKE_CALLBACKS,
        },
        .attributes = { { "idVendor", "0781" }, { "idProduct", "5581" }, { "serial", "ABC" } },
};

static struct fake_device host = {
        .pd = {
                .devpath = "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6",
                .subsystem = "scsi",
                .sysname = "host6",
                .devtype = "scsi_host",
                .driver = "usb-storage",
                .parent = &stick.pd,
                FAKE_CALLBACKS,
        },
};

static struct fake_device sdb = {
        .pd = {
                .devpath = "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb",
                .subsystem = "block",
                .sysname = "sdb",
                .devtype = "disk",
                .devname = "/dev/sdb",
                .type = 'b',
                .major = 8,
                .minor = 16,
                .parent = &host.pd,
                FAKE_CALLBACKS,
        },
        .properties = { { "ID_BUS", "usb" }, { "ID_SERIAL", "SanDisk_ABC" } },
        .attributes = { { "removable", "1" } },
};
