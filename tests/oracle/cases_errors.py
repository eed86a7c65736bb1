"""Error cases: `nnc check` must exit 1, name the line marked `@@` and mention the words.

The words are what a user needs to see to fix the model: the offending name, both shapes
or sizes, the keyword or function at fault."""
from lib import error

# ---------------------------------------------------------------------------------------
# The errors LANGUAGE.md §4-§6 list

error("err_unknown_function_near_miss", """
model bad {
    input x: [N, 4]
    output y = softmaxx(x)  @@
}
""", ["softmaxx"])

error("err_wrong_arg_count_builtin", """
model bad {
    input x: [N, 4]
    output y = exp(x, x)  @@
}
""", ["exp", "argument"])

error("err_wrong_arg_count_too_few", """
model bad {
    input x: [N, 4]
    loss = mse(x)  @@
}
""", ["mse", "argument"])

error("err_wrong_arg_count_fn", """
fn dense(x, W, b) = x @ W + b
model bad {
    input x: [N, 4]
    param W: [4, 2]
    output y = dense(x, W)  @@
}
""", ["dense", "3", "2"])

error("err_unknown_keyword_sum", """
model bad {
    input x: [N, 4]
    output y = sum(x, axes=1)  @@
}
""", ["axes"])

error("err_unknown_keyword_leaky_relu", """
model bad {
    input x: [N, 4]
    output y = leaky_relu(x, slope=0.1)  @@
}
""", ["slope"])

error("err_keyword_on_function_without_options", """
model bad {
    input x: [N, 4]
    output y = exp(x, axis=1)  @@
}
""", ["axis"])

error("err_axis_out_of_range_negative", """
model bad {
    input x: [N, 4]
    output s = sum(x, axis=-3)  @@
}
""", ["axis", "-3"])

error("err_axis_out_of_range_softmax", """
model bad {
    param x: [2, 3, 4]
    output s = softmax(x, axis=3)  @@
}
""", ["axis", "3"])

error("err_axis_out_of_range_log_softmax_negative", """
model bad {
    param x: [3, 4]
    output s = log_softmax(x, axis=-3)  @@
}
""", ["axis", "-3"])

error("err_axis_on_scalar", """
model bad {
    param s: []
    output m = max(s, axis=0)  @@
}
""", ["axis"])

error("err_axis_not_integer", """
model bad {
    input x: [N, 4]
    output s = mean(x, axis=0.5)  @@
}
""", ["axis"])

error("err_labels_not_i32", """
model bad {
    input x: [N, 4]
    input y: [N]
    loss = cross_entropy(x, y)  @@
}
""", ["i32"])

error("err_soft_targets_shape", """
model bad {
    input x: [N, 4]
    input t: [N, 3]
    loss = cross_entropy(x, t)  @@
}
""", ["[N, 4]", "[N, 3]"])

error("err_cross_entropy_logits_rank", """
model bad {
    input x: [4]
    input y: i32[1]
    loss = cross_entropy(x, y)  @@
}
""", ["[4]"])

error("err_labels_wrong_length", """
model bad {
    input x: [N, 4]
    input y: i32[M]
    loss = cross_entropy(x, y)  @@
}
""", ["N", "M"])

error("err_i32_in_function", """
model bad {
    input y: i32[N]
    output z = exp(y)  @@
}
""", ["i32"])

error("err_i32_in_matmul", """
model bad {
    input y: i32[N, 3]
    param W: [3, 2]
    output z = y @ W  @@
}
""", ["i32"])

error("err_i32_output", """
model bad {
    input x: [N, 4]
    input y: i32[N]
    output y  @@
}
""", ["y", "i32"])

error("err_param_i32", """
model bad {
    input x: [N, 4]
    param W: i32[4, 2]  @@
    output y = x
}
""", ["W", "i32"])

error("err_broadcast_rank3", """
model bad {
    param a: [2, 3, 4]
    param b: [2, 4]
    output c = a * b  @@
}
""", ["[2, 3, 4]", "[2, 4]"])

error("err_broadcast_size_variable_vs_literal", """
model bad {
    input x: [N, 3]
    input v: [N]
    output c = x + v  @@
}
""", ["[N, 3]", "[N]"])

error("err_matmul_vector_mismatch", """
model bad {
    param M: [4, 3]
    param v: [4]
    output y = M @ v  @@
}
""", ["[4, 3]", "[4]"])

error("err_matmul_rank3", """
model bad {
    param a: [2, 3, 4]
    param b: [4, 5]
    output y = a @ b  @@
}
""", ["[2, 3, 4]"])

error("err_matmul_size_variables", """
model bad {
    input x: [N, K]
    input W: [M, 3]
    output y = x @ W  @@
}
""", ["K", "M"])

error("err_transpose_rank1", """
model bad {
    param v: [4]
    output y = v.T  @@
}
""", ["[4]"])

error("err_transpose_rank3", """
model bad {
    param v: [2, 3, 4]
    output y = transpose(v)  @@
}
""", ["[2, 3, 4]"])

error("err_mse_shapes", """
model bad {
    input a: [N, 3]
    input b: [N, 2]
    loss = mse(a, b)  @@
}
""", ["[N, 3]", "[N, 2]"])

error("err_loss_not_scalar_vector", """
model bad {
    param w: [3]
    loss = w * 2  @@
}
""", ["scalar", "[3]"])

error("err_grad_of_non_scalar", """
model bad {
    param W: [3, 2]
    output g = grad(W * 2, W)  @@
}
""", ["scalar"])

error("err_grad_wrt_i32_input", """
model bad {
    input x: [N, 4]
    input y: i32[N]
    param W: [4, 3]
    let ce = cross_entropy(x @ W, y)
    output g = grad(ce, y)  @@
}
""", ["y", "i32"])

error("err_grad_wrt_let", """
model bad {
    input x: [N, 4]
    param W: [4, 3]
    let h = x @ W
    output g = grad(sum(h), h)  @@
}
""", ["h"])

error("err_grad_wrt_expression", """
model bad {
    param W: [4, 3]
    output g = grad(sum(W), W * 2)  @@
}
""", ["grad"])

error("err_grad_wrong_arg_count", """
model bad {
    param W: [4, 3]
    output g = grad(sum(W))  @@
}
""", ["grad", "argument"])

error("err_exponent_not_constant", """
model bad {
    param x: [3]
    param k: []
    output y = x ^ k  @@
}
""", ["constant"])

error("err_reshape_count_mismatch", """
model bad {
    param x: [2, 3]
    output y = reshape(x, [4, 2])  @@
}
""", ["6", "8"])

error("err_reshape_two_minus_ones", """
model bad {
    param x: [2, 6]
    output y = reshape(x, [-1, 3, -1])  @@
}
""", ["-1"])

error("err_reshape_minus_one_not_divisible", """
model bad {
    param x: [2, 5]
    output y = reshape(x, [3, -1])  @@
}
""", ["3", "10"])

error("err_reshape_size_variable_mismatch", """
model bad {
    input x: [N, 6]
    output y = reshape(x, [M, 6])  @@
}
""", ["N", "M"])

error("err_bracket_list_outside_reshape", """
model bad {
    param x: [3]
    output y = [x, x]  @@
}
""", ["["])

error("err_max_with_tensor_second_argument", """
model bad {
    param a: [3]
    param b: [3]
    output y = max(a, b)  @@
}
""", ["maximum"])

# ---------------------------------------------------------------------------------------
# Names and scope (§5)

error("err_undefined_name_in_loss", """
model bad {
    input x: [N, 4]
    loss = sum(x * wieght)  @@
}
""", ["wieght"])

error("err_forward_reference", """
model bad {
    input x: [N, 4]
    let a = b + 1  @@
    let b = x * 2
    output a
}
""", ["b"])

error("err_forward_reference_to_output", """
model bad {
    input x: [N, 4]
    let a = y * 2  @@
    output y = x + 1
}
""", ["y"])

error("err_shadow_input_with_let", """
model bad {
    input x: [N, 4]
    let x = 2  @@
}
""", ["x"])

error("err_shadow_let_with_output", """
model bad {
    input x: [N, 4]
    let h = x * 2
    output h = x + 1  @@
}
""", ["h"])

error("err_duplicate_param", """
model bad {
    param W: [4, 3]
    param W: [4, 3]  @@
}
""", ["W"])

error("err_output_twice", """
model bad {
    input x: [N, 4]
    output x
    output x  @@
}
""", ["x"])

error("err_loss_used_as_name", """
model bad {
    input x: [N, 4]
    loss = sum(x)
    output y = loss * 2  @@
}
""", ["loss"])

error("err_let_named_loss", """
model bad {
    input x: [N, 4]
    let loss = sum(x)  @@
}
""", ["loss"])

error("err_two_losses", """
model bad {
    input x: [N, 4]
    loss = sum(x)
    loss = mean(x)  @@
}
""", ["loss"])

error("err_recursion_direct", """
fn f(x) = f(x) + 1  @@
model bad {
    input x: [N, 4]
    output y = f(x)
}
""", ["f"])

error("err_recursion_mutual", """
fn a(x) = b(x)  @@
fn b(x) = a(x)
model bad {
    input x: [N, 4]
    output y = a(x)
}
""", ["b"])

error("err_fn_calls_later_fn", """
fn first(x) = second(x) * 2  @@
fn second(x) = x + 1
model bad {
    input x: [N, 4]
    output y = first(x)
}
""", ["second"])

error("err_fn_body_undefined_name", """
fn f(x) = x * W  @@
model bad {
    param W: [4]
    input x: [N, 4]
    output y = f(x)
}
""", ["W"])

error("err_duplicate_fn", """
fn f(x) = x
fn f(x) = x * 2  @@
model m {
    input x: [3]
    output y = f(x)
}
""", ["f"])

error("err_fn_duplicate_parameter", """
fn f(x, x) = x  @@
model m {
    input x: [3]
    output y = f(x, x)
}
""", ["x"])

error("err_fn_named_like_builtin", """
fn exp(x) = x  @@
model m {
    input x: [3]
    output y = exp(x)
}
""", ["exp"])

error("err_shape_error_inside_fn", """
fn dense(x, W) = x @ W  @@
model m {
    input x: [N, 3]
    param W: [4, 2]
    output y = dense(x, W)
}
""", ["[N, 3]", "[4, 2]"])

error("err_duplicate_model", """
model m {
    input x: [3]
    output y = x
}
model m {  @@
    input x: [3]
    output y = x
}
""", ["m"])

# ---------------------------------------------------------------------------------------
# Declarations and initialisers (§4, §7)

error("err_unknown_initialiser", """
model bad {
    param W: [4, 3] = xavier  @@
}
""", ["xavier"])

error("err_unknown_element_type", """
model bad {
    input x: f64[3]  @@
}
""", ["f64"])

error("err_zero_dimension", """
model bad {
    input x: [0, 3]  @@
}
""", ["0"])

error("err_input_with_initialiser", """
model bad {
    input x: [3] = zeros  @@
    output y = x
}
""", ["="])

# ---------------------------------------------------------------------------------------
# Syntax

error("err_syntax_missing_bracket", """
model bad {
    input x: [N, 4  @@
    param W: [4, 2]  @@
}
""", [])

error("err_syntax_bad_number", """
model bad {
    input x: [3]
    output y = x * 1.  @@
}
""", [])

error("err_syntax_illegal_character", """
model bad {
    input x: [3]
    output y = x $ 2  @@
}
""", ["$"])

error("err_syntax_keyword_as_name", """
model bad {
    input x: [3]
    let input = x * 2  @@
}
""", ["input"])

error("err_syntax_return_in_model", """
model bad {
    input x: [3]
    return x  @@
}
""", ["return"])

error("err_syntax_fn_block_without_return", """
fn f(x) {
    let y = x * 2
}  @@
model m {
    input x: [3]
    output y = f(x)
}
""", ["return"])

error("err_syntax_unclosed_model", """
model bad {
    input x: [3]
    output y = x  @@
""", [], also=[4])

error("err_syntax_dangling_operator", """
model bad {
    input x: [3]
    output y = x *  @@
}  @@
""", [])

error("err_syntax_statement_without_keyword", """
model bad {
    input x: [3]
    y = x * 2  @@
}
""", ["y"])

# ---------------------------------------------------------------------------------------
# Round 2: errors in positions and forms the cases above do not reach

error("r2_err_fn_uses_model_name", """
fn f(a) = a * W  @@
model m {
    param W: [3]
    output y = f(W)
}
""", ["W"])

error("r2_err_duplicate_keyword", """
model bad {
    param x: [3, 4]
    output s = sum(x, axis=0, axis=1)  @@
}
""", ["axis"])

error("r2_err_option_given_twice_positional_and_keyword", """
model bad {
    param x: [3, 4]
    output s = softmax(x, 0, axis=1)  @@
}
""", ["axis"])

error("r2_err_too_many_options", """
model bad {
    param x: [3, 4]
    output s = sum(x, 1, true, 2)  @@
}
""", ["sum"])

error("r2_err_softmax_dim_keyword", """
model bad {
    param x: [3, 4]
    output s = softmax(x, dim=1)  @@
}
""", ["dim"])

error("r2_err_cross_entropy_axis_keyword", """
model bad {
    input x: [N, 4]
    input y: i32[N]
    loss = cross_entropy(x, y, axis=1)  @@
}
""", ["axis"])

error("r2_err_subtract_shapes", """
model bad {
    param a: [2, 3]
    param b: [3, 2]
    output c = a - b  @@
}
""", ["[2, 3]", "[3, 2]"])

error("r2_err_divide_shapes", """
model bad {
    input x: [N, 4]
    param b: [5]
    output c = x / b  @@
}
""", ["[N, 4]", "[5]"])

error("r2_err_maximum_shapes", """
model bad {
    param a: [4]
    param b: [3]
    output c = maximum(a, b)  @@
}
""", ["[4]", "[3]"])

error("r2_err_matmul_vector_left", """
model bad {
    param v: [3]
    param M: [4, 2]
    output y = v @ M  @@
}
""", ["[3]", "[4, 2]"])

error("r2_err_matmul_scalar", """
model bad {
    param s: []
    param M: [4, 2]
    output y = s @ M  @@
}
""", ["[]", "[4, 2]"])

error("r2_err_multiline_matmul_points_at_operands", """
model bad {
    input x: [N, 784]
    param W: [128, 64]
    let h = relu(
        x @ W  @@
    )
}
""", ["784", "128"])

error("r2_err_i32_plus_number", """
model bad {
    input y: i32[N]
    output z = y + 1  @@
}
""", ["i32"])

error("r2_err_i32_negated", """
model bad {
    input y: i32[N]
    output z = -y  @@
}
""", ["i32"])

error("r2_err_i32_sum", """
model bad {
    input y: i32[N]
    loss = sum(y)  @@
}
""", ["i32"])

error("r2_err_i32_through_fn", """
fn double(a) = a * 2  @@
model bad {
    input y: i32[N]
    output z = double(y)  @@
}
""", ["i32"])

error("r2_err_loss_matrix", """
model bad {
    input x: [N, 3]
    param W: [3, 2]
    loss = x @ W  @@
}
""", ["scalar", "[N, 2]"])

error("r2_err_loss_reduced_one_axis", """
model bad {
    input x: [N, 3]
    loss = sum(x, axis=0)  @@
}
""", ["scalar", "[3]"])

error("r2_err_grad_wrt_output", """
model bad {
    param W: [3]
    output o = W * 2
    output g = grad(sum(o), o)  @@
}
""", ["o"])

error("r2_err_grad_wrt_number", """
model bad {
    param W: [3]
    output g = grad(sum(W), 2)  @@
}
""", ["grad"])

error("r2_err_grad_wrt_fn_param_expression", """
fn g(e, v) = grad(e, v)  @@
model bad {
    param W: [3]
    output o = g(sum(W), W * 2)  @@
}
""", ["grad"])

error("r2_err_recursion_three_fns", """
fn a(x) = x + 1
fn b(x) = c(x) * 2  @@
fn c(x) = b(x) - 1
model m {
    param w: [2]
    output y = b(w)
}
""", ["c"])

error("r2_err_input_and_param_same_name", """
model bad {
    input w: [3]
    param w: [3]  @@
    output y = w
}
""", ["w"])

error("r2_err_output_shadows_input", """
model bad {
    input x: [3]
    output x = x * 2  @@
}
""", ["x"])

error("r2_err_let_shadows_param", """
model bad {
    param W: [3]
    let W = 2  @@
    output y = W
}
""", ["W"])

error("r2_err_loss_before_let", """
model bad {
    param w: [3]
    loss = sum(h)  @@
    let h = w * 2
}
""", ["h"])

error("r2_err_use_before_input", """
model bad {
    output y = x * 2  @@
    input x: [3]
}
""", ["x"])

error("r2_err_normal_positional", """
model bad {
    param W: [3, 2] = normal(0.1)  @@
    output y = W
}
""", ["normal"])

error("r2_err_uniform_one_bound", """
model bad {
    param W: [3, 2] = uniform(1)  @@
    output y = W
}
""", ["uniform"])

error("r2_err_initialiser_from_name", """
model bad {
    input x: [3, 2]
    param W: [3, 2] = x  @@
    output y = W
}
""", ["x"])

error("r2_err_he_normal_on_scalar", """
model bad {
    param s: [] = he_normal  @@
    output y = s
}
""", ["he_normal"])

error("r2_err_normal_unknown_keyword", """
model bad {
    param W: [3, 2] = normal(sigma=0.1)  @@
    output y = W
}
""", ["sigma"])

error("r2_err_leaky_relu_tensor_alpha", """
model bad {
    param x: [3]
    param a: [3]
    output y = leaky_relu(x, alpha=a)  @@
}
""", ["alpha", "constant"])

error("r2_err_keepdims_number", """
model bad {
    param x: [3, 4]
    output y = sum(x, axis=0, keepdims=2)  @@
}
""", ["keepdims"])

error("r2_err_axis_out_of_range_rank4_keepdims", """
model bad {
    param x: [2, 3, 4, 5]
    output y = max(x, axis=-5, keepdims=true)  @@
}
""", ["axis", "-5"])

error("r2_err_reshape_minus_one_with_size_variable_count", """
model bad {
    input x: [N, 4]
    output y = reshape(x, [N, 3])  @@
}
""", ["reshape"])

error("r2_err_reshape_not_list", """
model bad {
    param x: [2, 3]
    output y = reshape(x, 6)  @@
}
""", ["reshape"])

error("r2_err_syntax_missing_colon", """
model bad {
    input x [N, 3]  @@
    output y = x
}
""", ["x"])

error("r2_err_syntax_missing_initialiser", """
model bad {
    param W: [3, 2] =  @@
    output y = W
}
""", ["expression"])

error("r2_err_syntax_unclosed_call_multiline", """
model bad {
    param x: [3]
    output y = sum(exp(x)  @@
    loss = sum(x)  @@
}
""", [")"])

error("r2_err_syntax_model_without_name", """
model {  @@
    param x: [3]
}
""", ["model"])

error("r2_err_unknown_function_with_kwargs", """
model bad {
    param x: [3, 4]
    output y = layer_norm(x, axis=1)  @@
}
""", ["layer_norm"])

error("r2_err_transpose_scalar", """
model bad {
    param s: []
    output y = s.T  @@
}
""", ["[]"])

error("r2_err_size_variable_conflict_two_inputs", """
model bad {
    input a: [N, 3]
    input b: [3, N]
    output c = a @ b + a  @@
}
""", ["[N, N]", "[N, 3]"])

error("r2_err_bool_let_in_arithmetic", """
model bad {
    param x: [3]
    let t = true
    output y = x * t  @@
}
""", ["t", "keepdims"])

error("r2_err_bool_through_fn_in_arithmetic", """
fn scale(x, k) = x * k  @@
model bad {
    param x: [3]
    output y = scale(x, false)  @@
}
""", ["k", "keepdims"])

error("r2_err_multiline_broadcast", """
model m {
    input x: [N, 4]
    param W1: [4, 3]
    param W2: [4, 5]
    let h = relu(x @ W1)  @@
          + x @ W2  @@
}
""", ["[N, 3]", "[N, 5]"])

error("r2_err_multiline_axis_keyword", """
model m {
    input x: [N, 4]
    param W1: [4, 3]
    loss = sum(x @ W1,  @@
               axis=2)  @@
}
""", ["axis", "2"])

error("r2_err_second_model_only", """
model good {
    param w: [3]
    loss = sum(w)
}
fn f(a) = a @ a
model bad {
    param W: [2, 3]
    output y = f(W)  @@
}
""", ["[2, 3]"])

error("r2_err_axis_list", """
model bad {
    param x: [2, 3]
    output a = sum(x, axis=[0, 1])  @@
}
""", ["axis", "list"])

error("r2_err_axis_huge", """
model bad {
    param x: [2, 3]
    output a = sum(x, axis=1e20)  @@
}
""", ["axis", "100000000000000000000"])

error("r2_err_syntax_type_without_brackets", """
model bad {
    input y: i32  @@
    input x: [N, 3]
}
""", ["["])

error("r2_err_syntax_fn_without_body", """
fn f(x) =  @@
model m {
    param w: [3]
}
""", ["expression"])

error("r2_err_malformed_number_before_postfix", """
model bad {
    param e: [4, 3]
    output o = e ^ 2.T  @@
}
""", ["2."])
