#version 330 core
// Instanced boid: one static triangle (attribute 0, pointing along +x) drawn once
// per boid; attribute 1 is the per-instance vec4(pos.xy, vel.xy) (divisor 1).

layout(location = 0) in vec2 a_vertex;
layout(location = 1) in vec4 a_instance;  // xy: position (world), zw: velocity

uniform vec4 u_world_to_ndc;  // xy: scale, zw: offset  (ndc = world * scale + offset)
uniform float u_boid_scale;   // triangle size in world units

out vec3 v_colour;

const float kTwoPi = 6.28318530717958647692;

vec3 hsv2rgb(vec3 c)
{
    vec3 p = abs(fract(c.xxx + vec3(1.0, 2.0 / 3.0, 1.0 / 3.0)) * 6.0 - 3.0);
    return c.z * mix(vec3(1.0), clamp(p - 1.0, 0.0, 1.0), c.y);
}

void main()
{
    vec2 vel = a_instance.zw;
    float speed = length(vel);
    vec2 dir = speed > 1e-6 ? vel / speed : vec2(1.0, 0.0);  // resting boids face +x
    mat2 rotation = mat2(dir.x, dir.y, -dir.y, dir.x);       // columns: dir, perpendicular
    vec2 world = a_instance.xy + rotation * (a_vertex * u_boid_scale);
    gl_Position = vec4(world * u_world_to_ndc.xy + u_world_to_ndc.zw, 0.0, 1.0);
    float hue = atan(dir.y, dir.x) / kTwoPi + 0.5;
    v_colour = hsv2rgb(vec3(hue, 0.75, 0.95));
}
