/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inode tree the views share: a node lives while it is linked or the
 * kernel holds it; inode numbers are never reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fs/node.h"

static unsigned freed;

static void count_free(struct fs_node *n) {
        freed++;
}

static void test_lifetime(void **state) {
        struct fs_tree t;
        struct fs_node *dir, *file;
        struct fuse_entry_param e;
        fuse_ino_t file_ino;

        freed = 0;
        assert_int_equal(fs_tree_init(&t, 0755, 100000, 100000, count_free), 0);
        assert_int_equal(t.root->ino, FUSE_ROOT_ID);
        assert_int_equal(fs_node_new(&t, t.root, "input", S_IFDIR | 0755, 0, 0, 0, NULL, &dir), 0);
        assert_int_equal(t.root->st.st_nlink, 3);
        assert_int_equal(fs_node_new(&t, dir, "event3", S_IFCHR | 0640, 0, 0, 0x0d43, NULL, &file), 0);
        file->data = &t; /* so free_data is called */
        assert_int_equal(fs_node_new(&t, dir, "event3", S_IFCHR | 0640, 0, 0, 0, NULL, NULL), -EEXIST);
        file_ino = file->ino;

        fs_node_entry(file, 1.0, &e);
        assert_int_equal(e.ino, file_ino);
        assert_int_equal(file->nlookup, 1);

        /* Unlinking the directory takes the file out of the tree, but the
         * kernel still holds it. */
        fs_node_unlink(&t, dir);
        assert_null(fs_node_child(t.root, "input"));
        assert_int_equal(t.root->st.st_nlink, 2);
        assert_ptr_equal(fs_tree_get(&t, file_ino), file);
        assert_false(fs_node_linked(&t, file));
        assert_int_equal(freed, 0);

        fs_node_forget(&t, file, 1);
        assert_null(fs_tree_get(&t, file_ino));
        assert_int_equal(freed, 1);

        /* A new node never gets an old number. */
        assert_int_equal(fs_node_new(&t, t.root, "input", S_IFDIR | 0755, 0, 0, 0, NULL, &dir), 0);
        assert_true(dir->ino > file_ino);
        fs_tree_done(&t);
}

static void test_move_and_snapshot(void **state) {
        struct fs_tree t;
        struct fs_node *a, *sub, *link;
        struct fs_dir_snapshot *s;

        assert_int_equal(fs_tree_init(&t, 0755, 0, 0, NULL), 0);
        assert_int_equal(fs_node_new(&t, t.root, "a", S_IFREG | 0644, 0, 0, 0, NULL, &a), 0);
        assert_int_equal(fs_node_new(&t, t.root, "sub", S_IFDIR | 0755, 0, 0, 0, NULL, &sub), 0);
        assert_int_equal(fs_node_new(&t, sub, "ln", S_IFLNK | 0777, 0, 0, 0, "../a", &link), 0);
        assert_int_equal(link->st.st_size, 4);
        assert_string_equal(link->symlink, "../a");

        assert_int_equal(fs_dir_snapshot_new(t.root, NULL, NULL, &s), 0);
        assert_int_equal(s->n, 4); /* . .. a sub */
        assert_string_equal(s->entries[0].name, ".");
        assert_string_equal(s->entries[1].name, "..");

        /* The snapshot does not change under its reader. */
        assert_int_equal(fs_node_move(a, sub, "b"), 0);
        assert_int_equal(s->n, 4);
        fs_dir_snapshot_free(s);

        assert_null(fs_node_child(t.root, "a"));
        assert_ptr_equal(fs_node_child(sub, "b"), a);
        assert_ptr_equal(a->parent, sub);
        assert_int_equal(fs_node_move(a, sub, "ln"), -EEXIST);
        fs_tree_done(&t);
}

static void test_find_and_forget(void **state) {
        struct fs_node *a, *b;
        struct fs_tree t;

        assert_int_equal(fs_tree_init(&t, 0755, 0, 0, NULL), 0);
        assert_int_equal(fs_node_new(&t, t.root, "a", S_IFDIR | 0755, 0, 0, 0, NULL, &a), 0);
        assert_int_equal(fs_node_new(&t, a, "b", S_IFREG | 0644, 0, 0, 0, NULL, &b), 0);
        assert_ptr_equal(fs_tree_find(&t, "a/b"), b);
        assert_ptr_equal(fs_tree_find(&t, "a//b/"), b);
        assert_ptr_equal(fs_tree_find(&t, ""), t.root);
        assert_null(fs_tree_find(&t, "a/c"));
        assert_null(fs_tree_find(&t, "a/b/c"));

        /* A FORGET of what the tree freed already is harmless. */
        b->nlookup = 1;
        fs_node_unlink(&t, b);
        fs_tree_forget(&t, b->ino, 1);
        assert_null(fs_tree_find(&t, "a/b"));
        fs_tree_forget(&t, 9999, 1);
        fs_tree_done(&t);
}

/* A view of a shared connection numbers its nodes in its own range; a
 * range used up refuses new nodes rather than reuse a number. */
static void test_range(void **state) {
        const fuse_ino_t first = (fuse_ino_t) 7 << 32 | 1;
        struct fs_tree t;
        struct fs_node *a, *b;

        assert_int_equal(fs_tree_init_at(&t, first, first + 2, 0755, 0, 0, NULL), 0);
        assert_int_equal(t.root->ino, first);
        assert_int_equal(t.root->st.st_ino, first);
        assert_int_equal(fs_node_new(&t, t.root, "a", S_IFREG | 0644, 0, 0, 0, NULL, &a), 0);
        assert_int_equal(a->ino, first + 1);
        assert_int_equal(fs_node_new(&t, t.root, "b", S_IFREG | 0644, 0, 0, 0, NULL, &b), 0);
        assert_int_equal(b->ino, first + 2);
        assert_ptr_equal(fs_tree_get(&t, first + 2), b);
        fs_node_unlink(&t, a);
        assert_int_equal(fs_node_new(&t, t.root, "c", S_IFREG | 0644, 0, 0, 0, NULL, NULL), -ENOSPC);
        assert_null(fs_node_child(t.root, "c"));
        fs_tree_done(&t);
}

/* Stable numbers: the same path gets the same number in a tree built in
 * another order (a new daemon's), numbers stay in the range and off the
 * root's, and a number comes back only once its node is forgotten. */
static void build(struct fs_tree *t, fuse_ino_t first, const char *const *names, size_t n) {
        struct fs_node *dir;

        assert_int_equal(fs_tree_init_at(t, first, first + 1000, 0755, 0, 0, NULL), 0);
        fs_tree_set_stable_ids(t);
        assert_int_equal(fs_node_new(t, t->root, "d", S_IFDIR | 0755, 0, 0, 0, NULL, &dir), 0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(fs_node_new(t, dir, names[i], S_IFREG | 0644, 0, 0, 0, NULL, NULL), 0);
}

static void test_stable_ids(void **state) {
        static const char *const forward[] = { "a", "b", "c", "loop0", "loop1" };
        static const char *const backward[] = { "loop1", "loop0", "c", "b", "a" };
        const fuse_ino_t first = (fuse_ino_t) 3 << 32 | 1;
        struct fs_tree t1, t2;
        struct fs_node *n, *again;
        fuse_ino_t ino;

        build(&t1, first, forward, ELEMENTSOF(forward));
        build(&t2, first, backward, ELEMENTSOF(backward));
        for (size_t i = 0; i < ELEMENTSOF(forward); i++) {
                char path[32];

                snprintf(path, sizeof(path), "d/%s", forward[i]);
                n = fs_tree_find(&t1, path);
                assert_non_null(n);
                assert_int_equal(n->ino, fs_tree_find(&t2, path)->ino);
                assert_true(n->ino > first && n->ino <= first + 1000);
        }
        /* Another directory, the same name: another number. */
        assert_int_equal(fs_node_new(&t1, t1.root, "a", S_IFREG | 0644, 0, 0, 0, NULL, &n), 0);
        assert_int_not_equal(n->ino, fs_tree_find(&t1, "d/a")->ino);

        /* Held by the kernel when unlinked: a new node of that path gets
         * another number; once forgotten, the number is its path's again. */
        n = fs_tree_find(&t1, "d/loop0");
        ino = n->ino;
        n->nlookup = 1;
        fs_node_unlink(&t1, n);
        assert_int_equal(fs_node_new(&t1, fs_tree_find(&t1, "d"), "loop0", S_IFREG | 0644, 0, 0, 0, NULL, &again), 0);
        assert_int_not_equal(again->ino, ino);
        assert_ptr_equal(fs_tree_get(&t1, ino), n);
        fs_node_unlink(&t1, again);
        fs_node_forget(&t1, n, 1);
        assert_null(fs_tree_get(&t1, ino));
        assert_int_equal(fs_node_new(&t1, fs_tree_find(&t1, "d"), "loop0", S_IFREG | 0644, 0, 0, 0, NULL, &again), 0);
        assert_int_equal(again->ino, ino);
        fs_tree_done(&t1);
        fs_tree_done(&t2);
}

/* A stable range holds as many nodes as it has numbers, then refuses. */
static void test_stable_full(void **state) {
        const fuse_ino_t first = (fuse_ino_t) 5 << 32 | 1;
        struct fs_tree t;
        struct fs_node *a, *b;

        assert_int_equal(fs_tree_init_at(&t, first, first + 2, 0755, 0, 0, NULL), 0);
        fs_tree_set_stable_ids(&t);
        assert_int_equal(fs_node_new(&t, t.root, "a", S_IFREG | 0644, 0, 0, 0, NULL, &a), 0);
        assert_int_equal(fs_node_new(&t, t.root, "b", S_IFREG | 0644, 0, 0, 0, NULL, &b), 0);
        assert_int_not_equal(a->ino, b->ino);
        assert_true(a->ino > first && a->ino <= first + 2 && b->ino > first && b->ino <= first + 2);
        assert_int_equal(fs_node_new(&t, t.root, "c", S_IFREG | 0644, 0, 0, 0, NULL, NULL), -ENOSPC);
        fs_node_unlink(&t, a);
        assert_int_equal(fs_node_new(&t, t.root, "c", S_IFREG | 0644, 0, 0, 0, NULL, NULL), 0);
        fs_tree_done(&t);
}

static bool kind_one(const struct fs_node *n) {
        return n->kind == 1;
}

/* What the handlers every view shares answer for: a node taken out of the
 * tree only if the view says so, and then never as a directory. */
static void test_view_node(void **state) {
        struct fs_tree t;
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        struct fs_view_tree strict = { .lock = &lock, .tree = &t };
        struct fs_view_tree keeping = { .lock = &lock, .tree = &t, .answers_unlinked = kind_one };
        struct fs_node *dir, *own, *other;
        struct fuse_entry_param e;
        fuse_ino_t dir_ino, own_ino, other_ino;
        int error;

        assert_int_equal(fs_tree_init(&t, 0755, 0, 0, NULL), 0);
        assert_int_equal(fs_node_new(&t, t.root, "shm", S_IFDIR | 01777, 0, 0, 0, NULL, &dir), 0);
        assert_int_equal(fs_node_new(&t, dir, "own", S_IFREG | 0600, 0, 0, 0, NULL, &own), 0);
        assert_int_equal(fs_node_new(&t, t.root, "other", S_IFCHR | 0600, 0, 0, 0x0700, NULL, &other), 0);
        own->kind = 1;
        dir->kind = 1;
        dir_ino = dir->ino;
        own_ino = own->ino;
        other_ino = other->ino;

        assert_ptr_equal(fs_view_node(&strict, own_ino), own);
        assert_ptr_equal(fs_view_dir(&strict, dir_ino, &error), dir);
        assert_int_equal(error, 0);
        assert_null(fs_view_dir(&strict, other_ino, &error));
        assert_int_equal(error, ENOTDIR);
        assert_null(fs_view_dir(&strict, other_ino + 100, &error));
        assert_int_equal(error, ENOENT);

        /* The kernel holds all three; the view takes them out. */
        fs_node_entry(dir, 1.0, &e);
        fs_node_entry(own, 1.0, &e);
        fs_node_entry(other, 1.0, &e);
        fs_node_unlink(&t, dir);
        fs_node_unlink(&t, other);

        assert_null(fs_view_node(&strict, own_ino));
        assert_null(fs_view_node(&strict, other_ino));
        assert_ptr_equal(fs_view_node(&keeping, own_ino), own);
        assert_null(fs_view_node(&keeping, other_ino));
        /* A directory taken out lists and holds nothing any more. */
        assert_ptr_equal(fs_view_node(&keeping, dir_ino), dir);
        assert_null(fs_view_dir(&keeping, dir_ino, &error));
        assert_int_equal(error, ENOENT);
        assert_null(fs_view_dir(&strict, dir_ino, &error));
        assert_int_equal(error, ENOENT);

        fs_tree_forget(&t, own_ino, 1);
        assert_null(fs_view_node(&keeping, own_ino));
        fs_tree_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lifetime),
                cmocka_unit_test(test_move_and_snapshot),
                cmocka_unit_test(test_find_and_forget),
                cmocka_unit_test(test_range),
                cmocka_unit_test(test_stable_ids),
                cmocka_unit_test(test_stable_full),
                cmocka_unit_test(test_view_node),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
