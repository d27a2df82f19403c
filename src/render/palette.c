/* The plots' colour palette (render.h), on its own: data the reports pick colours from, linked into the program
 * itself, while the drawing code that needs cairo is in the render module (include/recistry/module.h). */
#include "recistry/render.h"

const rcy_rgb rcy_plot_palette[8] = {
    {0.000, 0.447, 0.698}, /* blue */
    {0.835, 0.369, 0.000}, /* vermillion */
    {0.000, 0.620, 0.451}, /* bluish green */
    {0.800, 0.475, 0.655}, /* reddish purple */
    {0.337, 0.706, 0.914}, /* sky blue */
    {0.902, 0.624, 0.000}, /* orange */
    {0.941, 0.894, 0.259}, /* yellow */
    {0.3, 0.3, 0.3},       /* grey */
};
