/* A UDP echo server for the network end-to-end tests (busybox's nc has no
 * UDP): `udpecho PORT NAME` answers every datagram with `NAME:<datagram>`
 * to its sender, until killed. Built static by tests/common/net.rs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: udpecho PORT NAME\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("bind");
        return 1;
    }
    printf("udpecho listening on %s\n", argv[1]);
    fflush(stdout);
    char in[1024], out[1200];
    for (;;) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(s, in, sizeof in, 0, (struct sockaddr *)&from, &len);
        if (n < 0)
            continue;
        int m = snprintf(out, sizeof out, "%s:%.*s", argv[2], (int)n, in);
        if (m > 0)
            sendto(s, out, (size_t)m, 0, (struct sockaddr *)&from, len);
    }
}
