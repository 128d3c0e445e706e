// The orientation case for verifier speed: a 24-element insertion sort over values the verifier
// cannot know (derived from skb->len). Every comparison splits the path and no two paths agree on the
// array, so Linux explores until the 1,000,000-instruction complexity limit and gives up.
// Built by build.sh: clang-14 -target bpf -O2 -g -I ../../../../bpf/include -c insertion_sort24.c
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define N 24

SEC("socket")
int insertion_sort24(struct __sk_buff *skb)
{
	__u32 a[N];
	__u32 seed = skb->len;

	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245 + 12345;
		a[i] = seed >> 16;
	}
	for (int i = 1; i < N; i++) {
		__u32 key = a[i];
		int j = i - 1;

		while (j >= 0 && a[j] > key) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = key;
	}
	return a[0] + a[N - 1];
}

char LICENSE[] SEC("license") = "GPL";
