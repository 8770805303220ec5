# arpsend.py IFNAME SRCMAC SIP TIP [count]: broadcast ARP request(s) sip -> tip (sip 0.0.0.0: a probe; sip == tip: gratuitous),
# from a raw AF_PACKET socket (ipv4.sh)
import socket, sys, struct, time
ifn, mac, sip, tip = sys.argv[1:5]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 1
m = bytes.fromhex(mac.replace(':', ''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifn, 0))
pkt = b'\xff' * 6 + m + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + m + socket.inet_aton(sip) + b'\x00' * 6 + socket.inet_aton(tip)
for _ in range(n):
    s.send(pkt)
    time.sleep(0.01)
