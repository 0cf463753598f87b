"""Draws the AuditLens icon (a lens with a check mark on a rounded square) as RGBA PNGs, no dependencies."""
import math, struct, zlib, sys

def png(path, w, h, rgba):
    raw = b''.join(b'\x00' + bytes(rgba[y*w*4:(y+1)*w*4]) for y in range(h))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')
    open(path, 'wb').write(data)

def seg_dist(px, py, ax, ay, bx, by):
    dx, dy = bx-ax, by-ay
    t = max(0, min(1, ((px-ax)*dx + (py-ay)*dy) / (dx*dx + dy*dy)))
    return math.hypot(px-(ax+t*dx), py-(ay+t*dy))

def shade(u, v):
    """Colour at (u, v) in [0,1]^2, or None for transparent."""
    r = 0.18  # corner radius
    cx, cy = min(max(u, r), 1-r), min(max(v, r), 1-r)
    if math.hypot(u-cx, v-cy) > r: return None
    bg = (int(22 + 20*v), int(58 + 30*v), int(110 + 40*v))
    lx, ly, lr = 0.44, 0.42, 0.24
    d = math.hypot(u-lx, v-ly)
    if abs(d - lr) < 0.045: return (245, 247, 250)
    if seg_dist(u, v, lx+lr*0.72, ly+lr*0.72, 0.80, 0.80) < 0.055: return (245, 247, 250)
    if d < lr - 0.045:
        # check mark inside the lens
        if seg_dist(u, v, 0.33, 0.43, 0.41, 0.51) < 0.03 or seg_dist(u, v, 0.41, 0.51, 0.56, 0.33) < 0.03:
            return (74, 222, 128)
        return (bg[0]+25, bg[1]+30, bg[2]+40)
    return bg

def render(n, ss=4):
    out = bytearray(n*n*4)
    for y in range(n):
        for x in range(n):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    c = shade((x + (sx+0.5)/ss)/n, (y + (sy+0.5)/ss)/n)
                    if c:
                        acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255
            k = ss*ss
            a = acc[3] / k
            if a:
                out[(y*n+x)*4:(y*n+x)*4+4] = bytes([int(acc[0]/(acc[3]/255)), int(acc[1]/(acc[3]/255)), int(acc[2]/(acc[3]/255)), int(a)])
    return out

for path, n in [(p.split('=')[0], int(p.split('=')[1])) for p in sys.argv[1:]]:
    png(path, n, n, render(n, 4 if n <= 256 else 2))
    print(path, n)
